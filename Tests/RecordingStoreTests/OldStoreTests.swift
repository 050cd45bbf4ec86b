// OldStoreTests: stores written by earlier recfs versions keep opening and reading.

import Foundation
import RecordingCore
import Testing
@testable import RecordingStore

@Suite struct OldStoreTests {
    /// Copies a fixture store to a temporary folder, with the key file's mode set as recfs requires.
    func copyOfStore(_ name: String, into folder: TemporaryFolder) throws -> String {
        let target = folder.path + "/" + name
        try FileManager.default.copyItem(atPath: fixtures + "/stores/" + name, toPath: target)
        chmod(target + "/keys.json", 0o600)
        return target
    }

    @Test func version1StoreOpensAndReads() throws {
        let folder = TemporaryFolder()
        let store = try Store.open(at: try copyOfStore("v1", into: folder), clock: { fixedNow })
        #expect(store.account.sid == "ACdemo")
        #expect(store.plan == .enterprise)
        let rows = try store.recordings(RecordingQuery())
        let expected = [
            "CAe6fc0ee8f7446afa7c080aa5e6ee6501": "262f8d59e3284ea10a0d4d8d96a1df7e07e78f36ed75b8b7600b5ef5ff0a29ec",
            "CA9d4de30a45103ae007164857f750f66d": "b6bf6918c061f32388cbe978bed97bf258a1029b34b05f3a46376629f037a632",
        ]
        #expect(Set(rows.map(\.callSid)) == Set(expected.keys))
        for row in rows {
            let hasher = SHA256Hasher()
            try store.read(row) { hasher.update($0) }
            #expect(hasher.finalizeHex() == expected[row.callSid])
        }
        let (settings, version) = try store.currentSettings()
        #expect(version == 2)
        #expect(settings.retention.rules.count == 2)
        #expect(try store.fsck(repair: false).isClean)
        // Written before catalog v4: no call.json sizes (the mount builds them); repair fills them.
        #expect(rows.allSatisfy { $0.documentSize == nil })
        #expect(try store.fsck(repair: true).filledDocumentSizes == 2)
        for row in try store.recordings(RecordingQuery()) {
            #expect(row.documentSize == Int64(try store.callDocument(row).count))
        }
    }

    @Test func version1StoreAcceptsNewRecordingsAndRotation() throws {
        let folder = TemporaryFolder()
        let store = try Store.open(at: try copyOfStore("v1", into: folder), clock: { fixedNow })
        let result = try ingest(store, fixtures + "/calls/\(dualCall).json")
        #expect(result.recording != nil)
        _ = try store.rotateKeys(actor: "test")
        for row in try store.recordings(RecordingQuery()) {
            var count: Int64 = 0
            try store.read(row) { count += Int64($0.count) }
            #expect(count == row.plaintextSize)
        }
    }
}
