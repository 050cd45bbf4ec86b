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
    /// Path relative to fixtures/calls, or nil.
    let recording: String?
    /// `dual / WAV PCM16 stereo … / 8000 Hz`, or nil.
    let shape: String?
    /// `answer` or `connect`, or nil without a recording.
    let startPoint: String?

    var description: String { sid }

    /// The recording's container as the manifest names it (`wav` or `mp3`).
    var format: String? { shape.map { $0.contains("MP3") ? "mp3" : "wav" } }
    /// 2 for stereo, 1 for mono.
    var channels: Int? { shape.map { $0.contains("stereo") ? 2 : 1 } }
    /// The sample rate in the shape's last part (`… / 16000 Hz` or `… / 16000 Hz, ID3v2.3 tag`).
    var sampleRate: Int? {
        guard let last = shape?.components(separatedBy: " / ").last, let hz = last.range(of: " Hz") else { return nil }
        return Int(last[..<hz.lowerBound])
    }

    static func load() throws -> [ManifestRow] {
        let text = try String(contentsOf: Fixtures.calls.appendingPathComponent("MANIFEST.md"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line -> ManifestRow? in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            // | # | sid | flow | startedAt | direction | outcome | requested mode | recording | shape | start point | exercises |
            guard cells.count >= 12, Int(cells[1]) != nil else { return nil }
            func optional(_ s: String) -> String? { s == "-" ? nil : s }
            return ManifestRow(sid: cells[2].trimmingCharacters(in: CharacterSet(charactersIn: "`")), flow: cells[3], startedAt: cells[4],
                               direction: cells[5], outcome: cells[6], requestedMode: cells[7], recording: optional(cells[8]),
                               shape: optional(cells[9]), startPoint: optional(cells[10]))
        }
    }

    /// The manifest's rows, or none if it cannot be read (the tests that use it then fail on the count).
    static let all: [ManifestRow] = (try? load()) ?? []
}
