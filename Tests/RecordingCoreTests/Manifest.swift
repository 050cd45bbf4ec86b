// Manifest: the rows of fixtures/calls/MANIFEST.md, read so tests check the fixtures against what the manifest says.

import Foundation

/// One row of the manifest's table.
struct ManifestRow: Sendable, CustomStringConvertible {
    let sid: String
    let flow: String
    let startedAt: String
    let direction: String
    let outcome: String
    /// `dual`, `single`, `(omitted)` or `record: false`.
    let requestedMode: String
    /// `8000 Hz, 7000 ms`, or nil for a call without legs.
    let legs: String?
    /// What the engine records on the plan's default settings: `dual / stereo WAV … / 8000 Hz`,
    /// `single / MP3 … / 16000 Hz`, or `none: reason`.
    let expected: String

    var description: String { sid }

    /// Whether the engine makes a recording of this call on default settings.
    var hasRecording: Bool { !expected.hasPrefix("none") }
    /// The expected recording's container (`wav` or `mp3`), or nil.
    var format: String? { hasRecording ? (expected.contains("MP3") ? "mp3" : "wav") : nil }
    /// 2 for stereo, 1 for mono, nil without a recording.
    var channels: Int? { hasRecording ? (expected.contains("stereo") ? 2 : 1) : nil }
    /// The expected recording's sample rate (`… / 16000 Hz`).
    var sampleRate: Int? {
        guard hasRecording, let hz = expected.range(of: " Hz") else { return nil }
        return Int(expected[..<hz.lowerBound].components(separatedBy: " / ").last ?? "")
    }
    /// The legs' sample rate.
    var legRate: Int? { legs.flatMap { Int($0.components(separatedBy: " Hz").first ?? "") } }

    static func load() throws -> [ManifestRow] {
        let text = try String(contentsOf: Fixtures.calls.appendingPathComponent("MANIFEST.md"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line -> ManifestRow? in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            // | # | sid | flow | startedAt | direction | outcome | requested mode | legs | expected recording | exercises |
            guard cells.count >= 11, Int(cells[1]) != nil else { return nil }
            func optional(_ s: String) -> String? { s == "-" ? nil : s }
            return ManifestRow(sid: cells[2].trimmingCharacters(in: CharacterSet(charactersIn: "`")), flow: cells[3], startedAt: cells[4],
                               direction: cells[5], outcome: cells[6], requestedMode: cells[7], legs: optional(cells[8]),
                               expected: cells[9])
        }
    }

    /// The manifest's rows, or none if it cannot be read (the tests that use it then fail on the count).
    static let all: [ManifestRow] = (try? load()) ?? []
}
