// Covers `recfs gen`: synthetic calls through the engine, deterministic for a seed, with progress.

import Foundation
import Testing

@Suite("gen")
struct GenTests {
    static func generate(_ store: String, seed: Int, calls: Int = 40) throws -> CLIResult {
        try CLI.run(["gen", "--store", store, "--calls", "\(calls)", "--days", "3", "--seed", "\(seed)", "--max-duration", "30",
                     "--speech", Fixtures.calls.path])
    }

    @Test("the same seed makes the same calls and audio; a second run changes nothing")
    func deterministic() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let a = try StoreHelper.initStore(tmp, name: "a"), b = try StoreHelper.initStore(tmp, name: "b"), c = try StoreHelper.initStore(tmp, name: "c")
        let first = try Self.generate(a, seed: 11)
        #expect(first.status == 0, "\(first.summary)")
        #expect(first.err.contains("gen: [") && first.err.contains("40/40 calls"), "progress on stderr: \(first.summary)")
        #expect(first.out.contains("40 calls:") && first.out.contains("recorded"), "\(first.summary)")
        try CLI.ok(["gen", "--store", b, "--calls", "40", "--days", "3", "--seed", "11", "--max-duration", "30", "--speech", Fixtures.calls.path])
        _ = try Self.generate(c, seed: 12)

        func listing(_ store: String) throws -> [String] {
            try StoreHelper.list(store).map { "\($0["callSid"] ?? "") \($0["sha256"] ?? "") \($0["startedAt"] ?? "")" }
        }
        let la = try listing(a)
        #expect(la.count >= 20, "most calls are recorded: \(la.count)")
        #expect(la == (try listing(b)), "same seed, same sids, audio and times")
        #expect(Set(la).isDisjoint(with: try listing(c)), "another seed, other calls")

        // Again on the same store: identical deliveries, nothing new.
        let again = try Self.generate(a, seed: 11)
        #expect(again.status == 0 && again.out.contains("40 were already in the store"), "\(again.summary)")
        #expect(try listing(a) == la)
        try CLI.ok(["fsck", "--store", a])
    }

    @Test("calls spread over the days asked for, ending yesterday (none in the future), in varied shapes")
    func spreadAndVariety() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.initStore(tmp)
        let r = try Self.generate(store, seed: 5, calls: 60)
        #expect(r.status == 0, "\(r.summary)")
        let rows = try StoreHelper.list(store)
        let dates = Set(rows.compactMap { $0["date"] as? String })
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "Asia/Kolkata")
        let yesterday = formatter.string(from: Date().addingTimeInterval(-86_400))
        let allowed = Set((1...3).map { formatter.string(from: Date().addingTimeInterval(-Double($0) * 86_400)) })
        #expect(dates.isSubset(of: allowed) && dates.contains(yesterday) && dates.count >= 2, "\(dates) within \(allowed)")
        let now = Date()
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for row in rows {
            let started = (row["startedAt"] as? String).flatMap { iso.date(from: $0) ?? ISO8601DateFormatter().date(from: $0) }
            #expect(started.map { $0 < now } == true, "\(row["callSid"] ?? "?") starts at \(row["startedAt"] ?? "?"), not before now")
        }
        #expect(Set(rows.compactMap { $0["format"] as? String }) == ["wav", "mp3"])
        #expect(Set(rows.compactMap { $0["flow"] as? String }).count >= 4)
        #expect(Set(rows.compactMap { $0["sampleRate"] as? Int }).count >= 2)
        #expect(rows.allSatisfy { (($0["durationMs"] as? Int) ?? 0) >= 2000 && (($0["durationMs"] as? Int) ?? 0) <= 30_000 })
    }

    @Test("bad arguments are refused")
    func refusals() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.initStore(tmp)
        expectFailure(try CLI.run(["gen", "--store", store, "--calls", "0"]), mentioning: ["--calls"])
        expectFailure(try CLI.run(["gen", "--store", store, "--calls", "1", "--max-duration", "4000"]), mentioning: ["--max-duration"])
        expectFailure(try CLI.run(["gen", "--store", store, "--calls", "1", "--speech", tmp.path]), mentioning: ["no speech"])
    }
}
