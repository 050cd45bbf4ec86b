// Covers `recfs keys rotate` and `keys list`: recordings read identically afterwards, only blob headers change, the key file stays 0600 with one active key.

import Foundation
import Testing

@Suite("key rotation")
struct KeysTests {
    static func keyIds(_ store: String) throws -> [String] {
        let r = try CLI.ok(["keys", "list", "--store", store])
        return r.out.split(separator: "\n").map(String.init)
    }

    static func mode(_ path: String) throws -> Int {
        try #require((try FileManager.default.attributesOfItem(atPath: path))[.posixPermissions] as? NSNumber).intValue & 0o777
    }

    @Test("rotate rewraps data keys only: audio chunks untouched, recordings read identically")
    func rotate() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp)
        let keyFile = store + "/keys.json"
        #expect(try Self.mode(keyFile) == 0o600, "key file mode after init")

        let before = try Self.keyIds(store)
        #expect(before.count == 1 && before[0].hasSuffix(" (active)"), "\(before)")
        var oldId = String(before[0].dropLast(" (active)".count))

        let blobPaths = StoreHelper.blobFiles(store)
        #expect(blobPaths.count == Fixtures.recorded.count)
        var blobsBefore: [String: Data] = [:]
        for p in blobPaths { blobsBefore[p] = try Data(contentsOf: URL(fileURLWithPath: p)) }
        var digestsBefore: [String: String] = [:]
        for sid in Fixtures.recorded.keys { digestsBefore[sid] = SHA256.hex(try StoreHelper.cat(store, sid)) }

        for round in 1...2 {
            let r = try CLI.ok(["keys", "rotate", "--store", store])
            #expect(r.out.contains("rewrapped \(Fixtures.recorded.count) data keys"), "round \(round): \(r.summary)")

            let after = try Self.keyIds(store)
            #expect(after.count == 1, "round \(round): one key after rotation: \(after)")
            #expect(after.first?.hasSuffix(" (active)") == true, "\(after)")
            let newId = String((after.first ?? "").dropLast(" (active)".count))
            #expect(newId != oldId, "round \(round): the active key changed")
            #expect(r.out.contains(newId), "\(r.summary)")
            #expect(try Self.mode(keyFile) == 0o600, "round \(round): key file mode after rotation")
            let keyText = try String(contentsOfFile: keyFile, encoding: .utf8)
            #expect(!keyText.contains(oldId), "round \(round): the retired key \(oldId) is still in keys.json")

            // Same set of blobs; bytes 160… identical; the bound header bytes 0..<64 identical;
            // the wrapped key (64..<142) changed.
            #expect(StoreHelper.blobFiles(store) == blobPaths, "round \(round): blobs were added, removed or renamed")
            for p in blobPaths {
                let now = try Data(contentsOf: URL(fileURLWithPath: p))
                let was = try #require(blobsBefore[p])
                #expect(now.count == was.count, "\(p): size changed")
                #expect(now.subdata(in: Blob.headerSize..<now.count) == was.subdata(in: Blob.headerSize..<was.count),
                        "round \(round): \(p): bytes after the 160-byte header changed (audio re-encrypted?)")
                #expect(now.prefix(64) == was.prefix(64), "round \(round): \(p): bound header bytes changed")
                #expect(now.subdata(in: 64..<142) != was.subdata(in: 64..<142), "round \(round): \(p): the wrapped data key was not rewritten")
                #expect(now.subdata(in: 64..<(64 + newId.utf8.count)) == Data(newId.utf8), "round \(round): \(p): header names key \(newId)")
                blobsBefore[p] = now
            }
            for sid in Fixtures.recorded.keys.sorted() {
                #expect(SHA256.hex(try StoreHelper.cat(store, sid)) == digestsBefore[sid], "round \(round): \(sid) reads differently")
            }
            let fsck = try CLI.run(["fsck", "--store", store])
            #expect(fsck.status == 0, "\(fsck.summary)")
            // The next round must retire this key.
            oldId = newId
        }
    }

    @Test("a rotation on an empty store works and new recordings use the new key")
    func rotateEmptyThenIngest() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.initStore(tmp)
        let r = try CLI.ok(["keys", "rotate", "--store", store])
        #expect(r.out.contains("rewrapped 0 data keys"), "\(r.summary)")
        let ids = try Self.keyIds(store)
        #expect(ids.count == 1, "\(ids)")
        try CLI.ok(["ingest", "--store", store, Fixtures.callFile(Fixtures.dualSid)])
        #expect(try StoreHelper.cat(store, Fixtures.dualSid) == (try Fixtures.recording(Fixtures.dualSid)))
        let id = String(ids[0].dropLast(" (active)".count))
        let blob = try Data(contentsOf: URL(fileURLWithPath: try StoreHelper.blobPath(store, sid: Fixtures.dualSid)))
        #expect(blob.subdata(in: 64..<(64 + id.utf8.count)) == Data(id.utf8), "new blob wrapped with the active key")
    }

    @Test("rotations while another process ingests: every rotation succeeds, every recording stays readable, one key is left")
    func rotateWhileIngesting() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.initStore(tmp)
        let ingest = Failures()
        let ended = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let gen = try? CLI.run(["gen", "--store", store, "--calls", "200", "--days", "2", "--seed", "5",
                                    "--max-duration", "10", "--speech", Fixtures.calls.path])
            if gen?.status != 0 { ingest.add("gen: \(gen?.summary ?? "did not run")") }
            ended.signal()
        }
        var rotations = 0
        repeat {
            let r = try CLI.run(["keys", "rotate", "--store", store])
            #expect(r.status == 0, "rotation \(rotations + 1) beside the ingest: \(r.summary)")
            rotations += 1
        } while ended.wait(timeout: .now() + 0.05) == .timedOut
        #expect(ingest.list.isEmpty, "\(ingest.list)")
        #expect(rotations >= 2, "the ingest ended before two rotations ran beside it")
        try CLI.ok(["keys", "rotate", "--store", store])
        #expect(try Self.keyIds(store).count == 1)

        let recorded = try StoreHelper.list(store)
        #expect(recorded.count > 100, "\(recorded.count) recorded")
        for row in recorded {
            let sid = try #require(row["callSid"] as? String)
            let cat = try CLI.run(["cat", "--store", store, sid])
            #expect(cat.status == 0 && cat.stdout.count > 44, "\(sid) after rotations beside the ingest: \(cat.summary)")
        }
        let fsck = try CLI.run(["fsck", "--store", store])
        #expect(fsck.status == 0, "\(fsck.summary)")
    }

    @Test("a key file readable by others is refused, naming the fix")
    func keyFileMode() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp, calls: [Fixtures.dualSid])
        let keyFile = store + "/keys.json"
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyFile)
        for args in [["cat", "--store", store, Fixtures.dualSid], ["keys", "rotate", "--store", store], ["keys", "list", "--store", store]] {
            let r = try CLI.run(args)
            expectFailure(r, mentioning: [keyFile, "chmod 600"])
            #expect(r.stdout.isEmpty, "\(r.summary)")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile)
        #expect(try StoreHelper.cat(store, Fixtures.dualSid) == (try Fixtures.recording(Fixtures.dualSid)))
        #expect(try Self.keyIds(store).count == 1, "the refused rotation added a key")
    }
}
