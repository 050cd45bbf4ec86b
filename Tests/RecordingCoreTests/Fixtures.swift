// Fixtures: where the repository's fixture files are, and small builders shared by the tests.

import Foundation
@testable import RecordingCore

/// The repository's `fixtures/` folder, found from this file's path (Tests/RecordingCoreTests/…).
enum Fixtures {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // RecordingCoreTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("fixtures")

    static let calls = root.appendingPathComponent("calls")
    static let settings = root.appendingPathComponent("settings")

    /// The bytes of a file under `fixtures/`.
    static func bytes(_ relativePath: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: root.appendingPathComponent(relativePath)))
    }

    /// The bytes of `fixtures/settings/<plan>.json`.
    static func settingsDocument(_ plan: Plan) throws -> [UInt8] {
        try bytes("settings/\(plan.rawValue).json")
    }

    /// Every call sid with a `fixtures/calls/CA….json` file.
    static func callSids() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: calls.path)
            .filter { $0.hasPrefix("CA") && $0.hasSuffix(".json") }
            .map { String($0.dropLast(5)) }
            .sorted()
    }

    /// The parsed call JSON of `sid`, as a JSON object.
    static func callJSON(_ sid: String) throws -> JSONValue {
        try JSONValue.parse(try bytes("calls/\(sid).json"))
    }
}

extension JSONValue {
    /// This object with member `key` set to `value` (replaced in place, or appended).
    func setting(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case var .object(members) = self else { return self }
        if let i = members.firstIndex(where: { $0.key == key }) {
            members[i].value = value
        } else {
            members.append((key, value))
        }
        return .object(members)
    }

    /// This object without member `key`.
    func removing(_ key: String) -> JSONValue {
        guard case let .object(members) = self else { return self }
        return .object(members.filter { $0.key != key })
    }

    /// The compact text of this value, as bytes.
    var bytes: [UInt8] { Array(compact().utf8) }
}

/// A small, fast, seeded generator (SplitMix64) so property tests are repeatable.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The account sid the settings tests decode for.
let testAccountSid = "ACtest"

/// Decodes a settings document for `plan`; the violations it was refused for, or [] when accepted.
func settingsViolations(_ text: String, plan: Plan, current: RecordingSettings? = nil) -> [SettingsViolation] {
    do {
        _ = try SettingsDocument.decode(Array(text.utf8), plan: plan, accountSid: testAccountSid,
                                        current: current ?? .defaults(plan: plan, region: .apSouth1))
        return []
    } catch {
        return error.violations
    }
}

/// Decodes a settings document that must be accepted.
func decodeSettings(_ text: String, plan: Plan, current: RecordingSettings? = nil) throws(InvalidDocument) -> RecordingSettings {
    try SettingsDocument.decode(Array(text.utf8), plan: plan, accountSid: testAccountSid,
                                current: current ?? .defaults(plan: plan, region: .apSouth1))
}
