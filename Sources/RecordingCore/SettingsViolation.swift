// SettingsViolation: one reason a settings document is refused, with the JSON path it concerns.

/// One thing wrong with a settings document: where (`account.retentionDays`) and why.
public struct SettingsViolation: Equatable, Sendable, CustomStringConvertible {
    /// Dotted path of the offending member (`flows.sales.mode`, `retention.rules[1].days`).
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}

/// A document (settings or a call) refused for one or more reasons; nothing was applied.
public struct InvalidDocument: Error, Equatable, Sendable, CustomStringConvertible {
    public let violations: [SettingsViolation]
    /// What was refused: "settings", "call".
    public let what: String

    public init(_ violations: [SettingsViolation], what: String = "settings") {
        self.violations = violations
        self.what = what
    }

    public var description: String {
        let n = violations.count
        return "\(what) refused (\(n) problem\(n == 1 ? "" : "s")):\n"
            + violations.map { "  " + $0.description }.joined(separator: "\n")
    }
}

/// Collects violations while a document is read, so every problem is reported at once.
final class ViolationLog {
    private(set) var violations: [SettingsViolation] = []
    func add(_ path: String, _ reason: String) { violations.append(SettingsViolation(path: path, reason: reason)) }
}

/// Typed, path-aware access to one JSON object's members. Reading a member that is present
/// but of the wrong type logs a violation and yields nil; an absent member yields nil silently.
struct FieldReader {
    let path: String
    let members: [(key: String, value: JSONValue)]
    let log: ViolationLog

    /// Reads `value` as an object whose members must all be in `allowed`; logs and returns nil otherwise.
    init?(_ value: JSONValue, path: String, allowed: [String], log: ViolationLog) {
        guard case let .object(members) = value else {
            log.add(path, "expected an object, got \(value.typeName)")
            return nil
        }
        self.path = path
        self.members = members
        self.log = log
        for m in members where !allowed.contains(m.key) {
            log.add(child(m.key), "unknown field (allowed here: \(allowed.joined(separator: ", ")))")
        }
    }

    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func has(_ key: String) -> Bool { members.contains { $0.key == key } }

    func value(_ key: String) -> JSONValue? { members.first { $0.key == key }?.value }

    func bool(_ key: String) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case let .bool(b) = v else { log.add(child(key), "expected true or false, got \(v.typeName)"); return nil }
        return b
    }

    func int(_ key: String) -> Int? {
        guard let v = value(key) else { return nil }
        return FieldReader.int(v, path: child(key), log: log)
    }

    static func int(_ v: JSONValue, path: String, log: ViolationLog) -> Int? {
        guard case let .number(text) = v else { log.add(path, "expected a whole number, got \(v.typeName)"); return nil }
        guard let n = Int(text) else { log.add(path, "expected a whole number, got \(text)"); return nil }
        return n
    }

    func string(_ key: String) -> String? {
        guard let v = value(key) else { return nil }
        guard case let .string(s) = v else { log.add(child(key), "expected a string, got \(v.typeName)"); return nil }
        return s
    }

    /// A string that must be present.
    func requiredString(_ key: String) -> String? {
        if !has(key) { log.add(child(key), "required"); return nil }
        return string(key)
    }

    func choice<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) -> E? where E.RawValue == String {
        guard let v = value(key) else { return nil }
        let options = E.allCases.map(\.rawValue).joined(separator: ", ")
        guard case let .string(s) = v else { log.add(child(key), "expected one of \(options), got \(v.typeName)"); return nil }
        guard let e = E(rawValue: s) else { log.add(child(key), "\"\(s)\" is not one of \(options)"); return nil }
        return e
    }

    func array(_ key: String) -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard case let .array(items) = v else { log.add(child(key), "expected an array, got \(v.typeName)"); return nil }
        return items
    }

    func object(_ key: String) -> [(key: String, value: JSONValue)]? {
        guard let v = value(key) else { return nil }
        guard case let .object(m) = v else { log.add(child(key), "expected an object, got \(v.typeName)"); return nil }
        return m
    }
}
