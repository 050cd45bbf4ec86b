// SettingsDocument: settings to and from their JSON document, with every plan rule checked.
// The same code serves `recfs settings validate|set` and the mount's `.settings/` files.

import Foundation

/// The JSON form of an account's settings, and its validation.
public enum SettingsDocument {
    static let topLevelFields = ["accountSid", "plan", "account", "flows", "retention", "access", "storage", "limits"]
    static let accountFields = ["enabled", "mode", "format", "mp3BitrateKbps", "retentionDays", "startPoint",
                                "beep", "timeZone", "region", "pauses"]
    static let flowFields = ["override", "enabled", "mode"]
    static let ruleFields = ["flow", "outcome", "days"]
    static let accessFields = ["roles", "members", "ipAllowList", "downloadUrlTtlHours"]
    static let roleFields = ["recordings", "settings", "flows", "deleteRecordings"]
    static let memberFields = ["user", "role"]

    // MARK: Encoding

    /// The whole document, secrets masked, keys in a fixed order, plan limits beside the settings.
    public static func json(_ s: RecordingSettings, accountSid: String, plan: Plan) -> JSONValue {
        .object([
            ("accountSid", .string(accountSid)),
            ("plan", .string(plan.rawValue)),
            ("account", accountJSON(s.account)),
            ("flows", flowsJSON(s.flows)),
            ("retention", retentionJSON(s.retention)),
            ("access", accessJSON(s.access)),
            ("storage", storageJSON(s.storage, maskSecrets: true)),
            ("limits", plan.limitsJSON),
        ])
    }

    public static func accountJSON(_ a: AccountSettings) -> JSONValue {
        .object([
            ("enabled", .bool(a.enabled)),
            ("mode", .string(a.mode.rawValue)),
            ("format", .string(a.format.rawValue)),
            ("mp3BitrateKbps", .int(a.mp3BitrateKbps)),
            ("retentionDays", .int(a.retentionDays)),
            ("startPoint", .string(a.startPoint.rawValue)),
            ("beep", .bool(a.beep)),
            ("timeZone", .string(a.timeZone)),
            ("region", .string(a.region.rawValue)),
            ("pauses", .string(a.pauses.rawValue)),
        ])
    }

    public static func flowJSON(_ f: FlowOverride) -> JSONValue {
        var m: [(key: String, value: JSONValue)] = [("override", .bool(f.override))]
        if let e = f.enabled { m.append(("enabled", .bool(e))) }
        if let mode = f.mode { m.append(("mode", .string(mode.rawValue))) }
        return .object(m)
    }

    public static func flowsJSON(_ flows: [String: FlowOverride]) -> JSONValue {
        .object(flows.keys.sorted().map { ($0, flowJSON(flows[$0]!)) })
    }

    public static func retentionJSON(_ r: RetentionSettings) -> JSONValue {
        .object([("rules", .array(r.rules.map { rule in
            switch rule.criterion {
            case .flow(let f): return .object([("flow", .string(f)), ("days", .int(rule.days))])
            case .outcome(let o): return .object([("outcome", .string(o)), ("days", .int(rule.days))])
            }
        }))])
    }

    public static func accessJSON(_ a: AccessSettings) -> JSONValue {
        .object([
            ("roles", .object(a.roles.keys.sorted().map { name in
                let r = a.roles[name]!
                return (name, .object([
                    ("recordings", .string(r.recordings.rawValue)),
                    ("settings", .string(r.settings.rawValue)),
                    ("flows", .array(r.flows.map(JSONValue.string))),
                    ("deleteRecordings", .bool(r.deleteRecordings)),
                ]))
            })),
            ("members", .array(a.members.map { .object([("user", .string($0.user)), ("role", .string($0.role))]) })),
            ("ipAllowList", .array(a.ipAllowList.map { .string($0.description) })),
            ("downloadUrlTtlHours", .int(a.downloadUrlTtlHours)),
        ])
    }

    /// Storage settings; with `maskSecrets` every secret reads back as `********`.
    public static func storageJSON(_ s: StorageSettings, maskSecrets: Bool) -> JSONValue {
        func secret(_ v: String) -> JSONValue { .string(maskSecrets ? StorageSettings.secretMask : v) }
        func optional(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
        switch s {
        case .default:
            return .object([("kind", .string("default"))])
        case .s3(let t):
            var m: [(key: String, value: JSONValue)] = [
                ("kind", .string("s3")), ("bucket", .string(t.bucket)), ("region", .string(t.region)),
                ("endpoint", optional(t.endpoint)), ("accessKeyId", .string(t.accessKeyId)),
                ("secretAccessKey", secret(t.secretAccessKey)),
                ("serverSideEncryption", .string(t.serverSideEncryption)),
            ]
            if let k = t.kmsKeyId { m.append(("kmsKeyId", .string(k))) }
            m.append(("prefix", .string(t.prefix)))
            return .object(m)
        case .azure(let t):
            return .object([
                ("kind", .string("azure")), ("accountName", .string(t.accountName)),
                ("container", .string(t.container)), ("accountKey", secret(t.accountKey)),
                ("endpoint", optional(t.endpoint)), ("prefix", .string(t.prefix)),
            ])
        case .sftp(let t):
            return .object([
                ("kind", .string("sftp")), ("host", .string(t.host)), ("port", .int(t.port)),
                ("user", .string(t.user)), ("privateKeyFile", .string(t.privateKeyFile)),
                ("hostKeySha256", .string(t.hostKeySha256)), ("path", .string(t.path)),
            ])
        }
    }

    // MARK: Decoding and validation

    /// Reads a settings document and checks it against `plan`. Sections left out keep their
    /// `current` values; within `account`, fields left out keep theirs too. `flows` and
    /// `retention.rules`, when present, replace the whole set. A masked secret keeps the current one.
    /// - Returns: the new settings, or throws `InvalidDocument` listing every violation.
    public static func decode(_ bytes: some Collection<UInt8>, plan: Plan, accountSid: String,
                              current: RecordingSettings) throws(InvalidDocument) -> RecordingSettings {
        let doc: JSONValue
        do {
            doc = try JSONValue.parse(bytes)
        } catch {
            throw InvalidDocument([SettingsViolation(path: "", reason: error.description)])
        }
        return try decode(doc, plan: plan, accountSid: accountSid, current: current)
    }

    /// As `decode(_:plan:accountSid:current:)`, from a parsed document.
    public static func decode(_ doc: JSONValue, plan: Plan, accountSid: String,
                              current: RecordingSettings) throws(InvalidDocument) -> RecordingSettings {
        let log = ViolationLog()
        guard let top = FieldReader(doc, path: "", allowed: topLevelFields, log: log) else {
            throw InvalidDocument(log.violations)
        }
        if let sid = top.string("accountSid"), sid != accountSid {
            log.add("accountSid", "read-only: this store's account is \(accountSid)")
        }
        if let p = top.string("plan"), p != plan.rawValue {
            log.add("plan", "read-only: this account is on the \(plan.displayName) plan")
        }
        if let limits = top.value("limits"), limits != plan.limitsJSON {
            log.add("limits", "read-only: shows what the \(plan.displayName) plan allows")
        }
        var s = current
        if let v = top.value("account") { s.account = account(v, plan: plan, current: current.account, log: log) }
        if let v = top.value("flows") { s.flows = flows(v, plan: plan, log: log) }
        if let v = top.value("retention") { s.retention = retention(v, plan: plan, current: current.retention, log: log) }
        if let v = top.value("access") { s.access = access(v, plan: plan, current: current.access, log: log) }
        if let v = top.value("storage") { s.storage = storage(v, plan: plan, current: current.storage, log: log) }
        if !log.violations.isEmpty { throw InvalidDocument(log.violations) }
        return s
    }

    /// Checks settings already typed (for example after a plan change) against `plan`.
    public static func planViolations(_ s: RecordingSettings, plan: Plan) -> [SettingsViolation] {
        let doc = JSONValue.object([
            ("account", accountJSON(s.account)), ("flows", flowsJSON(s.flows)),
            ("retention", retentionJSON(s.retention)), ("access", accessJSON(s.access)),
            ("storage", storageJSON(s.storage, maskSecrets: false)),
        ])
        do {
            _ = try decode(doc, plan: plan, accountSid: "", current: s)
            return []
        } catch {
            return error.violations
        }
    }

    static func dualNotAllowed(_ plan: Plan) -> String {
        "dual-channel recording is available on the Growth and Enterprise plans; this account is on \(plan.displayName)"
    }

    static func account(_ v: JSONValue, plan: Plan, current: AccountSettings, log: ViolationLog) -> AccountSettings {
        guard let r = FieldReader(v, path: "account", allowed: accountFields, log: log) else { return current }
        var a = current
        a.enabled = r.bool("enabled") ?? a.enabled
        if let mode = r.choice("mode", RecordingMode.self) {
            if mode == .dual && !plan.allowsDualChannel { log.add("account.mode", dualNotAllowed(plan)) }
            a.mode = mode
        }
        a.format = r.choice("format", AudioFormat.self) ?? a.format
        if let kbps = r.int("mp3BitrateKbps") {
            if !AccountSettings.mp3Bitrates.contains(kbps) {
                log.add("account.mp3BitrateKbps", "\(kbps) is not an MP3 bitrate (one of \(AccountSettings.mp3Bitrates.map(String.init).joined(separator: ", ")))")
            }
            a.mp3BitrateKbps = kbps
        }
        if let days = r.int("retentionDays") {
            if let problem = retentionProblem(days, plan: plan) { log.add("account.retentionDays", problem) }
            a.retentionDays = days
        }
        a.startPoint = r.choice("startPoint", StartPoint.self) ?? a.startPoint
        a.beep = r.bool("beep") ?? a.beep
        if let tz = r.string("timeZone") {
            if !SettingsDocument.isTimeZone(tz) {
                log.add("account.timeZone", "\"\(tz)\" is not an IANA time zone (for example Asia/Kolkata or UTC)")
            }
            a.timeZone = tz
        }
        a.region = r.choice("region", Region.self) ?? a.region
        a.pauses = r.choice("pauses", PauseHandling.self) ?? a.pauses
        return a
    }

    static let knownTimeZones = Set(TimeZone.knownTimeZoneIdentifiers + ["UTC"])

    /// An IANA zone name this system knows: `Area/Location`, or a listed name such as GMT.
    /// Abbreviations such as IST are ambiguous (India? Israel? Ireland?) and refused.
    static func isTimeZone(_ name: String) -> Bool {
        TimeZone(identifier: name) != nil && (name.contains("/") || knownTimeZones.contains(name))
    }

    static func retentionProblem(_ days: Int, plan: Plan) -> String? {
        let range = plan.retentionRange
        guard !range.contains(days) else { return nil }
        return "\(days) is outside \(plan.displayName)'s range \(range.lowerBound)–\(range.upperBound)"
    }

    static func flows(_ v: JSONValue, plan: Plan, log: ViolationLog) -> [String: FlowOverride] {
        guard case let .object(members) = v else {
            log.add("flows", "expected an object of flow name to override, got \(v.typeName)")
            return [:]
        }
        var out: [String: FlowOverride] = [:]
        for (name, value) in members {
            let path = "flows.\(name)"
            if let problem = Names.flowProblem(name) { log.add(path, problem) }
            guard let r = FieldReader(value, path: path, allowed: flowFields, log: log) else { continue }
            let f = FlowOverride(override: r.bool("override") ?? true, enabled: r.bool("enabled"), mode: r.choice("mode", RecordingMode.self))
            if f.mode == .dual && !plan.allowsDualChannel { log.add("\(path).mode", dualNotAllowed(plan)) }
            out[name] = f
        }
        return out
    }

    static func retention(_ v: JSONValue, plan: Plan, current: RetentionSettings, log: ViolationLog) -> RetentionSettings {
        guard let r = FieldReader(v, path: "retention", allowed: ["rules"], log: log),
              let items = r.array("rules") else { return current }
        if !items.isEmpty && !plan.allowsSelectiveRetention {
            log.add("retention.rules", "selective retention is available on the Enterprise plan only; this account is on \(plan.displayName)")
        }
        var rules: [RetentionRule] = []
        for (i, item) in items.enumerated() {
            let path = "retention.rules[\(i)]"
            guard let rr = FieldReader(item, path: path, allowed: ruleFields, log: log) else { continue }
            let flow = rr.string("flow"), outcome = rr.string("outcome")
            let days = rr.int("days")
            if !rr.has("days") { log.add("\(path).days", "required") }
            if let d = days, let problem = retentionProblem(d, plan: plan) { log.add("\(path).days", problem) }
            switch (flow, outcome) {
            case let (f?, nil):
                if let p = Names.flowProblem(f) { log.add("\(path).flow", p) }
                rules.append(RetentionRule(.flow(f), days: days ?? 0))
            case let (nil, o?):
                if let p = Names.outcomeProblem(o) { log.add("\(path).outcome", p) }
                rules.append(RetentionRule(.outcome(o), days: days ?? 0))
            case (.some, .some):
                log.add(path, "a rule names either a flow or an outcome, not both")
            case (nil, nil):
                if !rr.has("flow") && !rr.has("outcome") { log.add(path, "a rule needs a flow or an outcome") }
            }
        }
        return RetentionSettings(rules: rules)
    }

    /// The `access` section; members left out keep their current values.
    static func access(_ v: JSONValue, plan: Plan, current: AccessSettings, log: ViolationLog) -> AccessSettings {
        var a = current
        guard let r = FieldReader(v, path: "access", allowed: accessFields, log: log) else { return a }
        if let roles = r.object("roles") {
            a.roles = [:]
            for (name, value) in roles {
                let path = "access.roles.\(name)"
                if let p = Names.roleProblem(name) { log.add(path, p) }
                guard let rr = FieldReader(value, path: path, allowed: roleFields, log: log) else { continue }
                var role = Role(recordings: rr.choice("recordings", RecordingAccess.self) ?? .none,
                                settings: rr.choice("settings", SettingsAccess.self) ?? .none,
                                flows: ["*"], deleteRecordings: rr.bool("deleteRecordings") ?? false)
                if !rr.has("recordings") { log.add("\(path).recordings", "required (read or none)") }
                if !rr.has("settings") { log.add("\(path).settings", "required (write, read or none)") }
                if let flows = rr.array("flows") {
                    role.flows = []
                    for (i, f) in flows.enumerated() {
                        guard case let .string(name) = f else { log.add("\(path).flows[\(i)]", "expected a flow name, got \(f.typeName)"); continue }
                        if name != "*", let p = Names.flowProblem(name) { log.add("\(path).flows[\(i)]", p) }
                        role.flows.append(name)
                    }
                }
                if role.deleteRecordings && !plan.allowsRecordingDeletion {
                    log.add("\(path).deleteRecordings", "deleting single recordings is available on the Enterprise plan only; this account is on \(plan.displayName)")
                }
                a.roles[name] = role
            }
        }
        if let members = r.array("members") {
            a.members = []
            var seen = Set<String>()
            for (i, item) in members.enumerated() {
                let path = "access.members[\(i)]"
                guard let mr = FieldReader(item, path: path, allowed: memberFields, log: log) else { continue }
                guard let user = mr.requiredString("user"), let role = mr.requiredString("role") else { continue }
                if let p = userProblem(user) { log.add("\(path).user", p) }
                if !seen.insert(user).inserted { log.add("\(path).user", "\"\(user)\" is listed twice") }
                if a.roles[role] == nil {
                    log.add("\(path).role", "no role named \"\(role)\" (roles: \(a.roles.keys.sorted().joined(separator: ", ")))")
                }
                a.members.append(Member(user: user, role: role))
            }
        }
        if !r.has("members") {
            for m in a.members where a.roles[m.role] == nil {
                log.add("access.roles", "member \(m.user) holds role \"\(m.role)\", which is no longer defined")
            }
        }
        if let list = r.array("ipAllowList") {
            a.ipAllowList = []
            for (i, item) in list.enumerated() {
                let path = "access.ipAllowList[\(i)]"
                guard case let .string(text) = item else { log.add(path, "expected a network such as \"203.0.113.0/24\", got \(item.typeName)"); continue }
                guard let cidr = CIDR(text) else {
                    log.add(path, "\"\(text)\" is not an IP address or a network in CIDR notation with its host bits zero")
                    continue
                }
                a.ipAllowList.append(cidr)
            }
        }
        if let ttl = r.int("downloadUrlTtlHours") {
            let range = AccessSettings.downloadUrlTtlRange
            if !range.contains(ttl) { log.add("access.downloadUrlTtlHours", "\(ttl) is outside \(range.lowerBound)–\(range.upperBound) hours") }
            a.downloadUrlTtlHours = ttl
        }
        return a
    }

    static func userProblem(_ user: String) -> String? {
        if user.hasPrefix("uid:") {
            return UInt32(user.dropFirst(4)) == nil ? "\"\(user)\": uid:N needs a number" : nil
        }
        let ok = !user.isEmpty && user.utf8.count <= 32 && user.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x2D || b == 0x5F || b == 0x2E
        } && user.first != "-"
        return ok ? nil : "\"\(user)\" is not a user name (letters, digits, '.', '_', '-') or uid:N"
    }
}
