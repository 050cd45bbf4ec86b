// Covers `recfs fsck [--repair]`: a clean store is clean, stray blobs and staging leftovers are reported and removed, missing blobs are damage.

import Foundation
import Testing

@Suite("fsck")
struct FsckTests {
    @Test("a clean store is clean; an orphan blob is reported (exit 1) and removed by --repair (exit 0)")
    func orphan() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp)

        let clean = try CLI.run(["fsck", "--store", store])
        #expect(clean.status == 0, "\(clean.summary)")
        #expect(clean.out.contains("checked \(Fixtures.recorded.count) recordings: 0 orphan blob(s), 0 staging leftover(s), 0 damaged"), "\(clean.summary)")

        let blobsBefore = StoreHelper.blobFiles(store)
        let strayDir = store + "/blobs/ap-south-1/ACdemo"
        let stray = strayDir + "/stray.rec"
        try Data("not a blob".utf8).write(to: URL(fileURLWithPath: stray))
        let nested = strayDir + "/2026/11/18/0123456789abcdef0123456789abcdef.rec"
        try Data(count: 500).write(to: URL(fileURLWithPath: nested))

        let found = try CLI.run(["fsck", "--store", store])
        #expect(found.status == 1, "\(found.summary)")
        #expect(found.out.contains("orphan blob found: ap-south-1/ACdemo/stray.rec"), "\(found.summary)")
        #expect(found.out.contains("orphan blob found: ap-south-1/ACdemo/2026/11/18/0123456789abcdef0123456789abcdef.rec"), "\(found.summary)")
        #expect(found.out.contains("2 orphan blob(s)"), "\(found.summary)")
        #expect(FileManager.default.fileExists(atPath: stray), "fsck without --repair removed a file")

        let repaired = try CLI.run(["fsck", "--store", store, "--repair"])
        #expect(repaired.status == 0, "\(repaired.summary)")
        #expect(repaired.out.contains("orphan blob removed: ap-south-1/ACdemo/stray.rec"), "\(repaired.summary)")
        #expect(!FileManager.default.fileExists(atPath: stray), "--repair left the stray file")
        #expect(!FileManager.default.fileExists(atPath: nested), "--repair left the nested stray file")
        #expect(StoreHelper.blobFiles(store) == blobsBefore, "--repair touched catalogued blobs")

        let again = try CLI.run(["fsck", "--store", store])
        #expect(again.status == 0, "\(again.summary)")
        for sid in Fixtures.recorded.keys.sorted() {
            #expect(try StoreHelper.cat(store, sid) == (try Fixtures.recording(sid)), "\(sid) unreadable after repair")
        }
    }

    @Test("a stray file in the other region's folder and a staging leftover are found and removed")
    func otherRegionAndStaging() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp, calls: [Fixtures.dualSid])
        let other = store + "/blobs/ap-southeast-1/ACdemo/x.rec"
        try FileManager.default.createDirectory(atPath: store + "/blobs/ap-southeast-1/ACdemo", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: other))
        let partial = store + "/staging/0011223344556677.partial"
        try Data(count: 1000).write(to: URL(fileURLWithPath: partial))

        let found = try CLI.run(["fsck", "--store", store])
        #expect(found.status == 1, "\(found.summary)")
        #expect(found.out.contains("ap-southeast-1/ACdemo/x.rec"), "\(found.summary)")
        #expect(found.out.contains("staging leftover found: 0011223344556677.partial"), "\(found.summary)")

        let repaired = try CLI.run(["fsck", "--store", store, "--repair"])
        #expect(repaired.status == 0, "\(repaired.summary)")
        #expect(!FileManager.default.fileExists(atPath: other))
        #expect(!FileManager.default.fileExists(atPath: partial))
        #expect(try CLI.run(["fsck", "--store", store]).status == 0)
        #expect(try StoreHelper.cat(store, Fixtures.dualSid) == (try Fixtures.recording(Fixtures.dualSid)))
    }

    @Test("a missing or truncated blob is reported as damaged and --repair does not hide it")
    func damaged() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp, calls: [Fixtures.dualSid, Fixtures.widebandSid])
        let truncated = try StoreHelper.blobPath(store, sid: Fixtures.dualSid)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: truncated))
        try handle.truncate(atOffset: 100_000)
        try handle.close()
        try FileManager.default.removeItem(atPath: try StoreHelper.blobPath(store, sid: Fixtures.widebandSid))

        for args in [["fsck", "--store", store], ["fsck", "--store", store, "--repair"]] {
            let r = try CLI.run(args)
            #expect(r.status == 1, "\(r.summary)")
            #expect(r.out.contains("damaged: call \(Fixtures.dualSid)"), "\(r.summary)")
            #expect(r.out.contains("damaged: call \(Fixtures.widebandSid)"), "\(r.summary)")
            #expect(r.out.contains("2 damaged"), "\(r.summary)")
        }
        let cat = try CLI.run(["cat", "--store", store, Fixtures.widebandSid])
        expectFailure(cat, mentioning: [Fixtures.widebandSid, "missing"])
        #expect(cat.stdout.isEmpty)
    }
}
