// Covers ingest atomicity under kill -9: a loop of ingests killed at random moments leaves
// nothing half-made: `recfs fsck --repair` then reports clean, and every catalogued recording
// reads back whole.

import Foundation
import Testing

@Suite("kill -9 during ingest")
struct CrashTests {
    @Test("ingests killed with SIGKILL at random moments: fsck --repair, then clean, every recording whole")
    func killDuringIngest() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.initStore(tmp)
        let binary = try #require(CLI.binary)

        // 150 calls sharing the dual fixture's legs (7 s, 224 KB recordings) under fresh sids.
        let dir = tmp.sub("calls")
        try Fixtures.copyLegs(into: dir)
        var files: [String] = []
        var call = try Fixtures.callJSON(Fixtures.dualSid)
        for i in 0..<150 {
            call["callSid"] = String(format: "CAcrash%025d", i)
            let path = dir + "/call-\(i).json"
            try JSONSerialization.data(withJSONObject: call).write(to: URL(fileURLWithPath: path))
            files.append(path)
        }

        var killedMidRun = 0
        for round in 0..<5 {
            let p = Process()
            p.executableURL = binary
            p.arguments = ["ingest", "--store", store] + files
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32.random(in: 40_000...(120_000 + UInt32(round) * 60_000)))
            if p.isRunning { killedMidRun += 1 }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        #expect(killedMidRun >= 3, "the kills should land while ingest runs (\(killedMidRun) of 5 did)")

        let repair = try CLI.run(["fsck", "--store", store, "--repair"])
        #expect(repair.status == 0, "\(repair.summary)")
        let check = try CLI.run(["fsck", "--store", store])
        #expect(check.status == 0 && check.out.contains("0 orphan blob(s), 0 staging leftover(s), 0 damaged"), "\(check.summary)")

        // Every catalogued recording reads back whole: the size and SHA-256 the catalog holds.
        let expected = try Fixtures.recording(Fixtures.dualSid)
        let rows = try StoreHelper.list(store, ["--include-expired"])
        #expect(rows.count < files.count, "the kills stopped ingest before the end (\(rows.count) recorded)")
        for row in rows {
            let sid = try #require(row["callSid"] as? String)
            let bytes = try StoreHelper.cat(store, sid)
            #expect(bytes == expected, "\(sid) reads back whole")
            #expect(row["sha256"] as? String == SHA256.hex(bytes))
        }
        #expect(StoreHelper.blobFiles(store).count == rows.count, "one blob per catalogued recording, no orphan")

        // Ingesting everything again completes the set; the survivors are identical re-deliveries.
        let finish = try CLI.run(["ingest", "--store", store] + files)
        #expect(finish.status == 0, "\(finish.summary)")
        let lines = finish.out.split(separator: "\n")
        #expect(lines.count == files.count)
        #expect(lines.filter { $0.contains("already ingested") }.count >= rows.count)
        #expect(try StoreHelper.list(store).count == files.count)
        try CLI.ok(["fsck", "--store", store])
    }
}
