// SettingsFile: the settings as the mount's `.settings/` files. Each file is one part of the
// whole settings document (the shape `recfs settings show` prints) with the plan and its limits
// beside it, and decodes through `SettingsDocument.decode`, so the files and `recfs settings`
// share every rule.

/// One file of `.settings/`: `account.json`, `retention.json`, `access.json`, `storage.json`,
/// or `flows/FLOW.json` for a flow override.
public enum SettingsFile: Hashable, Sendable, CustomStringConvertible {
    case account
    case retention
    case access
    case storage
    case flow(String)

    /// The files that always exist, in listing order.
    public static let fixed: [SettingsFile] = [.account, .retention, .access, .storage]

    /// Members of a flow file besides the override's own.
    static let flowFileFields = ["flow"] + SettingsDocument.flowFields + ["plan", "limits"]

    /// A top-level file by name (`account.json`), or nil.
    public init?(name: String) {
        guard let f = SettingsFile.fixed.first(where: { $0.fileName == name }) else { return nil }
        self = f
    }

    /// A flow file by its name in `flows/` (`sales.json`), or nil when the name is no flow's.
    public init?(flowFileName name: String) {
        guard name.hasSuffix(".json") else { return nil }
        let flow = String(name.dropLast(5))
        guard Names.flowProblem(flow) == nil else { return nil }
        self = .flow(flow)
    }

    /// Why a file may not be made under `name` (in `flows/` when `inFlows`), or nil when the name
    /// is a settings file or a scratch name (editors' and tools' temporary files). A `.json` name
    /// that is no settings file is refused, so a typo never silently goes nowhere.
    public static func nameProblem(_ name: String, inFlows: Bool) -> String? {
        guard name.hasSuffix(".json") else { return nil }
        if inFlows {
            guard SettingsFile(flowFileName: name) == nil else { return nil }
            return "flows/\(name) is not a flow file: \(Names.flowProblem(String(name.dropLast(5))) ?? "bad name")"
        }
        guard SettingsFile(name: name) == nil else { return nil }
        return "\(name) is not a settings file (these are \(fixed.map(\.fileName).joined(separator: ", ")) and flows/FLOW.json)"
    }

    /// The name within its folder.
    public var fileName: String {
        switch self {
        case .account: return "account.json"
        case .retention: return "retention.json"
        case .access: return "access.json"
        case .storage: return "storage.json"
        case .flow(let name): return "\(name).json"
        }
    }

    /// The path under `.settings/`.
    public var path: String {
        if case .flow = self { return "flows/\(fileName)" }
        return fileName
    }

    public var description: String { path }

    /// The member of the whole document this file shows.
    var section: String {
        switch self {
        case .account: return "account"
        case .retention: return "retention"
        case .access: return "access"
        case .storage: return "storage"
        case .flow: return "flows"
        }
    }

    // MARK: Reading

    /// The file's document: its settings, pretty, keys in a fixed order, secrets masked, the
    /// plan and its limits beside them (read-only members).
    public func document(_ s: RecordingSettings, accountSid: String, plan: Plan) -> JSONValue {
        let part: JSONValue
        switch self {
        case .account: part = SettingsDocument.accountJSON(s.account)
        case .retention: part = SettingsDocument.retentionJSON(s.retention)
        case .access: part = SettingsDocument.accessJSON(s.access)
        case .storage: part = SettingsDocument.storageJSON(s.storage, maskSecrets: true)
        case .flow(let name):
            guard case let .object(members)? = s.flows[name].map(SettingsDocument.flowJSON) else {
                return .object([("flow", .string(name))])
            }
            return .object([("flow", .string(name))] + members + [("plan", .string(plan.rawValue)), ("limits", plan.limitsJSON)])
        }
        return .object([("accountSid", .string(accountSid)), ("plan", .string(plan.rawValue)),
                        (section, part), ("limits", plan.limitsJSON)])
    }

    /// The file's bytes as read.
    public func text(_ s: RecordingSettings, accountSid: String, plan: Plan) -> [UInt8] {
        Array(document(s, accountSid: accountSid, plan: plan).prettyPrinted().utf8)
    }

    // MARK: Writing

    /// The settings after this file is written with `bytes`, checked against `plan` by the
    /// whole document's rules. Violations name fields as they appear in this file.
    public func decode(_ bytes: some Collection<UInt8>, plan: Plan, accountSid: String,
                       current: RecordingSettings) throws(InvalidDocument) -> RecordingSettings {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw InvalidDocument([SettingsViolation(path: "", reason: "the file is empty; write the whole document (read the file for its current form)")])
        }
        let doc: JSONValue
        do {
            doc = try JSONValue.parse(bytes)
        } catch {
            throw InvalidDocument([SettingsViolation(path: "", reason: error.description)])
        }
        guard case let .object(members) = doc else {
            throw InvalidDocument([SettingsViolation(path: "", reason: "expected an object, got \(doc.typeName)")])
        }
        switch self {
        case .flow(let name):
            return try decodeFlow(name, members, plan: plan, accountSid: accountSid, current: current)
        default:
            let allowed = ["accountSid", "plan", section, "limits"]
            let strays = members.filter { !allowed.contains($0.key) }.map { member in
                SettingsViolation(path: member.key, reason: SettingsFile.home(of: member.key).map {
                    "not part of \(fileName); it belongs in \($0)"
                } ?? "unknown field (allowed here: \(allowed.joined(separator: ", ")))")
            }
            do throws(InvalidDocument) {
                let s = try SettingsDocument.decode(doc, plan: plan, accountSid: accountSid, current: current)
                if !strays.isEmpty { throw InvalidDocument(strays) }
                return s
            } catch {
                // The whole document's reader also flags the strays' own contents; say it once.
                let others = error.violations.filter { v in !strays.contains { v.path == $0.path || v.path.hasPrefix($0.path + ".") } }
                throw InvalidDocument(strays + others)
            }
        }
    }

    private func decodeFlow(_ name: String, _ members: [(key: String, value: JSONValue)], plan: Plan, accountSid: String,
                            current: RecordingSettings) throws(InvalidDocument) -> RecordingSettings {
        var problems: [SettingsViolation] = []
        var override: [(key: String, value: JSONValue)] = []
        var whole: [(key: String, value: JSONValue)] = []
        for m in members {
            switch m.key {
            case "flow":
                if m.value != .string(name) {
                    problems.append(SettingsViolation(path: "flow", reason: "read-only: this file is flows/\(name).json (to move an override, rename the file)"))
                }
            case "plan", "limits": whole.append(m)
            case _ where SettingsDocument.flowFields.contains(m.key): override.append(m)
            default:
                problems.append(SettingsViolation(path: m.key, reason: "unknown field (allowed here: \(SettingsFile.flowFileFields.joined(separator: ", ")))"))
            }
        }
        var flows = current.flows.keys.sorted().filter { $0 != name }.map { ($0, SettingsDocument.flowJSON(current.flows[$0]!)) }
        flows.append((name, .object(override)))
        whole.append(("flows", .object(flows)))
        let prefix = "flows.\(name)"
        do throws(InvalidDocument) {
            let s = try SettingsDocument.decode(JSONValue.object(whole), plan: plan, accountSid: accountSid, current: current)
            if !problems.isEmpty { throw InvalidDocument(problems) }
            return s
        } catch {
            let relabelled = error.violations.filter { !problems.contains($0) }.map { v -> SettingsViolation in
                if v.path == prefix { return SettingsViolation(path: "", reason: v.reason) }
                if v.path.hasPrefix(prefix + ".") { return SettingsViolation(path: String(v.path.dropFirst(prefix.count + 1)), reason: v.reason) }
                return v
            }
            throw InvalidDocument(problems + relabelled)
        }
    }

    /// The settings without this flow's override (removing a flow file).
    public func removed(from s: RecordingSettings) -> RecordingSettings {
        guard case let .flow(name) = self else { return s }
        var out = s
        out.flows[name] = nil
        return out
    }

    /// Which file holds a member of the whole document.
    static func home(of member: String) -> String? {
        switch member {
        case "account": return "account.json"
        case "retention": return "retention.json"
        case "access": return "access.json"
        case "storage": return "storage.json"
        case "flows": return "flows/FLOW.json (one file per flow)"
        default: return nil
        }
    }
}
