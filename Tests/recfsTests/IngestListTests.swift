// Covers init → ingest of the fixtures → `recfs ls` (table and --json), with --date in Asia/Kolkata and --flow filters.

import Foundation
import Testing

@Suite("init, ingest and ls")
struct IngestListTests {
    @Test("the test harness finds the built binary and hashes correctly")
    func harness() throws {
        let binary = try #require(CLI.binary, "no recfs binary found next to \(Bundle.main.bundleURL.path)")
        #expect(binary.lastPathComponent == "recfs")
        #expect(SHA256.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Fixtures.demoCallFiles.count == 12, "the fixtures hold 12 ACdemo calls and one ACstarter call")
    }

    @Test("ingesting fixtures/calls/*.json records exactly the answered, enabled, ≥ 2 s calls")
    func ingestAllAndList() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.initStore(tmp)

        // As a user would: the whole glob. The ACstarter call is refused; everything else goes in.
        let ingest = try CLI.run(["ingest", "--store", store] + Fixtures.allCallFiles)
        #expect(ingest.status != 0, "one call belongs to ACstarter: \(ingest.summary)")
        #expect(ingest.err.contains(Fixtures.starterCall), "\(ingest.summary)")
        #expect(ingest.err.contains("account"), "\(ingest.summary)")
        #expect(ingest.err.contains("1 of 13"), "\(ingest.summary)")
        let outLines = ingest.out.split(separator: "\n").map(String.init)
        #expect(outLines.count == 12, "\(ingest.summary)")
        for (sid, _) in Fixtures.recorded {
            #expect(outLines.contains { $0.hasPrefix("\(sid): recorded") }, "\(sid) should be recorded: \(ingest.summary)")
        }
        for sid in Fixtures.unrecorded {
            #expect(outLines.contains { $0.hasPrefix("\(sid): no recording") }, "\(sid) should have no recording: \(ingest.summary)")
        }
        #expect(!ingest.out.contains(Fixtures.starterCall))

        // ls: a header, then one line per recording, oldest first.
        let ls = try CLI.ok(["ls", "--store", store])
        let lines = ls.out.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("DATE") == true, "\(ls.summary)")
        let rows = lines.dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        let listed = rows.compactMap { $0.count > 2 ? $0[2] : nil }
        #expect(Set(listed) == Set(Fixtures.recorded.keys), "\(ls.summary)")
        #expect(listed.count == Fixtures.recorded.count, "each recording listed once: \(ls.summary)")
        for row in rows where row.count >= 3 {
            guard let expected = Fixtures.recorded[row[2]] else { continue }
            #expect(row[0] == expected.localDate, "local date of \(row[2]): \(ls.summary)")
            #expect(row[1] == expected.flow, "flow of \(row[2]): \(ls.summary)")
        }
        #expect(ls.err.contains("\(Fixtures.recorded.count) recordings"), "\(ls.summary)")

        // ls --json parses and agrees with the fixtures, byte for byte (size and sha256).
        let json = try StoreHelper.list(store)
        #expect(json.map { $0["callSid"] as? String ?? "" } == listed, "JSON and table list the same calls in the same order")
        for obj in json {
            let sid = try #require(obj["callSid"] as? String)
            let expected = try #require(Fixtures.recorded[sid])
            let original = try Fixtures.recording(sid)
            #expect(obj["date"] as? String == expected.localDate, "\(sid)")
            #expect(obj["flow"] as? String == expected.flow, "\(sid)")
            #expect(obj["format"] as? String == expected.format, "\(sid)")
            #expect((obj["size"] as? NSNumber)?.intValue == original.count, "\(sid)")
            #expect(obj["sha256"] as? String == SHA256.hex(original), "\(sid)")
            #expect(obj["region"] as? String == "ap-south-1", "\(sid)")
        }
        // Oldest first.
        let started = json.compactMap { $0["startedAt"] as? String }
        #expect(started == started.sorted(), "\(started)")
    }

    @Test("--date uses the account's time zone (Asia/Kolkata) and --flow filters")
    func dateAndFlowFilters() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp)
        func sids(_ extra: [String]) throws -> Set<String> {
            Set(try StoreHelper.list(store, extra).compactMap { $0["callSid"] as? String })
        }

        // CAbda… started 2026-11-23T20:00:00Z, which is 01:30 on the 24th in Kolkata.
        let tzEdge = "CAbda05a1c596c28408f9afad4e0717ee9"
        #expect(try sids(["--date", "2026-11-24"]) == [tzEdge, Fixtures.widebandSid, Fixtures.pausedSid])
        #expect(try sids(["--date", "2026-11-23"]) == [])
        #expect(try sids(["--date", "2026-11-18"]) == [Fixtures.dualSid])
        #expect(try sids(["--flow", "support"]) == ["CAe6fc0ee8f7446afa7c080aa5e6ee6501", "CA9d4de30a45103ae007164857f750f66d", Fixtures.widebandSid, Fixtures.pausedSid])
        #expect(try sids(["--flow", "sales"]) == [Fixtures.dualSid, tzEdge])
        #expect(try sids(["--flow", "collections"]) == ["CAe0c893904726659b096dc93ff823b298"])
        #expect(try sids(["--flow", "sales", "--date", "2026-11-24"]) == [tzEdge])
        #expect(try sids(["--flow", "no-such-flow"]) == [])

        // The table view of --date shows the local date too.
        let table = try CLI.ok(["ls", "--store", store, "--date", "2026-11-24"])
        let row = table.out.split(separator: "\n").first { $0.contains(tzEdge) }
        #expect(row?.hasPrefix("2026-11-24") == true, "\(table.summary)")

        // A malformed or impossible date is refused, naming --date.
        for date in ["2026-13-01", "2026-02-30", "2026-11-31", "2026-11-4", "20261124", "24-11-2026", "today"] {
            let bad = try CLI.run(["ls", "--store", store, "--date", date])
            expectFailure(bad, mentioning: ["--date", date])
            #expect(bad.stdout.isEmpty, "\(bad.summary)")
        }
    }

    @Test("relative store and call paths work from the caller's working directory")
    func relativePaths() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        // From fixtures/calls, as `cd fixtures/calls && recfs ingest --store ../../x CA….json`.
        let store = tmp.sub("store")
        try CLI.ok(["init", "--store", store, "--account", "ACdemo", "--plan", "growth"])
        let r = try CLI.run(["ingest", "--store", store, "\(Fixtures.dualSid).json", "./\(Fixtures.widebandSid).json"], cwd: Fixtures.calls.path)
        #expect(r.status == 0, "\(r.summary)")
        // From the package root with calls/… and from the temp folder with a relative store.
        let fromRoot = try CLI.run(["ingest", "--store", store, "fixtures/calls/CAbda05a1c596c28408f9afad4e0717ee9.json"], cwd: Fixtures.packageRoot.path)
        #expect(fromRoot.status == 0, "\(fromRoot.summary)")
        let ls = try CLI.run(["ls", "--store", "store", "--json"], cwd: tmp.path)
        #expect(ls.status == 0, "\(ls.summary)")
        let rows = try JSONSerialization.jsonObject(with: ls.stdout) as? [[String: Any]] ?? []
        #expect(Set(rows.compactMap { $0["callSid"] as? String }) == [Fixtures.dualSid, Fixtures.widebandSid, "CAbda05a1c596c28408f9afad4e0717ee9"])
        let cat = try CLI.run(["cat", "--store", "store", Fixtures.dualSid], cwd: tmp.path)
        #expect(cat.stdout == (try Fixtures.recording(Fixtures.dualSid)), "\(cat.summary)")
    }
}
