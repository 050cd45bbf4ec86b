// StoreTests: the facade end to end: ingest, listing, settings apply, key rotation, fsck.

import Foundation
import GRDB
import RecordingCore
import Testing
@testable import RecordingStore

/// 2026-11-24T12:00:00Z, so expiries are the same every run.
let fixedNow: Int64 = 1_795_521_600_000

/// The dual-channel 8 kHz fixture call (7 s, fourteen 16 KiB chunks).
let dualCall = "CA5a4f7a5b568e5da8e66977530a6f9870"

func makeStore(_ folder: TemporaryFolder, plan: Plan = .growth, account: String = "ACdemo",
               now: @escaping @Sendable () -> Int64 = { fixedNow }) throws -> Store {
    try Store.create(at: folder.path + "/store", accountSid: account, plan: plan, region: .apSouth1, actor: "test", clock: now)
}

func callFiles(account: String = "ACdemo") throws -> [String] {
    let dir = fixtures + "/calls"
    return try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".json") }.sorted()
        .map { dir + "/" + $0 }
        .filter { (try? String(contentsOfFile: $0, encoding: .utf8))?.contains("\"account\": \"\(account)\"") == true }
}

func readAll(_ store: Store, _ row: RecordingRow) throws -> [UInt8] {
    var out: [UInt8] = []
    try store.read(row) { out += $0 }
    return out
}

@Suite struct StoreTests {
    @Test func ingestsEveryFixtureAndReadsItBack() throws {
        let folder = TemporaryFolder()
        let store = try makeStore(folder)
        var recorded = 0
        for file in try callFiles() {
            let result = try ingest(store, file)
            guard let r = result.recording else {
                #expect(result.call.noRecordingReason != nil)
                continue
            }
            recorded += 1
            let original = try standInRecording(file)
            #expect(try readAll(store, r) == original)
            #expect(r.plaintextSize == Int64(original.count))
        }
        #expect(recorded == 7)
        #expect(try store.recordings(RecordingQuery()).count == 7)
        #expect(try store.recordings(RecordingQuery(date: "2026-11-24")).map(\.callSid).count == 3)
        #expect(try store.recordings(RecordingQuery(flow: "sales")).count == 2)
    }

    @Test func noRecordingReasonsSayWhy() throws {
        let folder = TemporaryFolder()
        let store = try makeStore(folder)
        for file in try callFiles() { _ = try ingest(store, file) }
        let calls = try store.catalog.pool.read { db in try CallRow.filter(Column("recordingId") == nil).fetchAll(db) }
        let reasons = calls.compactMap(\.noRecordingReason)
        #expect(reasons.count == calls.count, "every call without a recording says why")
        #expect(reasons.contains { $0.contains("not answered") })
        #expect(reasons.contains { $0.contains("under the 2 s minimum") })
        #expect(reasons.contains { $0.contains("Record parameter is false") })
    }

    @Test func reDeliveryIsIdempotentAndChangedInputIsRefused() throws {
        let folder = TemporaryFolder()
        let store = try makeStore(folder)
        let file = fixtures + "/calls/\(dualCall).json"
        let first = try ingest(store, file)
        let again = try ingest(store, file)
        #expect(again.alreadyIngested)
        #expect(again.recording?.id == first.recording?.id)
        // The same sid with other inputs: refused, nothing new stored.
        let changed = folder.path + "/changed.json"
        try FileManager.default.copyItem(atPath: fixtures + "/calls/legs", toPath: folder.path + "/legs")
        var text = try String(contentsOfFile: file, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"from\": \"", with: "\"from\": \"+1")
        try text.write(toFile: changed, atomically: false, encoding: .utf8)
        #expect(throws: StoreError.self) { _ = try ingest(store, changed) }
        #expect(try store.recordings(RecordingQuery()).count == 1)
    }

    @Test func refusedCallStoresNothing() throws {
        let folder = TemporaryFolder()
        let store = try makeStore(folder)
        let bad = folder.path + "/bad.json"
        try #"{"account": "ACdemo", "callSid": "CAbad", "flow": "../etc", "from": "+1", "to": "+2", "direction": "inbound", "outcome": "completed", "startedAt": "2026-11-24T10:00:00Z", "endedAt": "2026-11-24T09:00:00Z"}"#
            .write(toFile: bad, atomically: false, encoding: .utf8)
        let error = #expect(throws: InvalidDocument.self) { _ = try ingest(store, bad) }
        #expect(error?.violations.map(\.path).sorted() == ["endedAt", "flow"])
        #expect(try store.catalog.pool.read { db in try CallRow.fetchCount(db) } == 0)
        #expect(try store.fsck(repair: false).isClean)
    }

    @Test func invalidSettingsChangeNothing() throws {
        let folder = TemporaryFolder()
        let store = try makeStore(folder, plan: .starter)
        let before = try store.settingsDocument().prettyPrinted()
        let bad = #"{"account": {"retentionDays": 120, "mode": "dual", "region": "eu-west-1", "colour": 1}, "retention": {"rules": [{"flow": "sales", "days": 60}]}}"#
        let error = #expect(throws: InvalidDocument.self) { try store.applySettings(Array(bad.utf8), actor: "test") }
        #expect(Set(error?.violations.map(\.path) ?? []) == ["account.retentionDays", "account.mode", "account.region", "account.colour", "retention.rules"])
        #expect(try store.settingsDocument().prettyPrinted() == before)
        #expect(try store.currentSettings().version == 1)
    }

    @Test func retentionChangeMovesExpiriesAndIsAudited() throws {
        let folder = TemporaryFolder()
        let later: Int64 = 1_795_737_600_000  // 2026-11-27T00:00Z
        let store = try makeStore(folder, now: { later })
        for file in try callFiles() { _ = try ingest(store, file) }
        // Recordings of 2026-11-18 … 2026-11-24; now is 2026-11-27. At 7 days the two oldest expire.
        let change = try store.applySettings(Array(#"{"account": {"retentionDays": 7}}"#.utf8), actor: "admin")
        #expect(change.version == 2)
        #expect(change.expiriesChanged == 7)
        let visible = try store.recordings(RecordingQuery())
        #expect(visible.allSatisfy { $0.expiresAt > later })
        #expect(visible.count == 5)
        #expect(try store.recordings(RecordingQuery(includeExpired: true)).count == 7)
        // Back to 90 before any sweep: they reappear.
        try store.applySettings(Array(#"{"account": {"retentionDays": 90}}"#.utf8), actor: "admin")
        #expect(try store.recordings(RecordingQuery()).count == 7)
        let audit = try store.auditEvents(subject: "ACdemo").filter { $0.action == "settings.set" }
        #expect(audit.count == 2)
        #expect(audit[0].actor == "admin")
        #expect(audit[0].detail.contains("\"before\"") && audit[0].detail.contains("\"after\""))
    }

    @Test func sameDocumentTwiceMakesNoNewVersion() throws {
        let folder = TemporaryFolder()
        let store = try makeStore(folder)
        let doc = Array(try store.settingsDocument().prettyPrinted().utf8)
        #expect(try store.applySettings(doc, actor: "test").version == nil)
    }

    @Test func auditEventsAreAppendOnly() throws {
        let folder = TemporaryFolder()
        let store = try makeStore(folder)
        #expect(throws: (any Error).self) {
            try store.catalog.pool.write { db in try db.execute(sql: "UPDATE audit SET actor = 'mallory'") }
        }
        #expect(throws: (any Error).self) {
            try store.catalog.pool.write { db in try db.execute(sql: "DELETE FROM audit") }
        }
        #expect(try store.auditEvents().count == 1)
    }

    @Test func keyRotationRewrapsWithoutTouchingAudio() throws {
        let folder = TemporaryFolder()
        let store = try makeStore(folder)
        for file in try callFiles() { _ = try ingest(store, file) }
        let rows = try store.recordings(RecordingQuery())
        let blobPath = { (r: RecordingRow) in store.root + "/blobs/" + r.region + "/" + r.blobKey }
        let before = try rows.map { try readFile(blobPath($0)) }
        let plain = try rows.map { try readAll(store, $0) }
        let oldKey = try store.vault.keys.activeKeyId()
        #expect(try store.documentsChangedAt() == nil)
        #expect(rows.allSatisfy { $0.documentChangedAt == nil })

        let rotation = try store.rotateKeys(actor: "test")
        #expect(rotation.rewrapped == rows.count)
        // call.json names the key: every document is dated by the rotation (its mtime follows).
        let changed = try #require(try store.documentsChangedAt())
        #expect(changed.count == rows.count, "the fixed clock dates every rotation at one instant")
        #expect(try store.recordings(RecordingQuery()).allSatisfy { $0.documentChangedAt == changed.at })
        #expect(try store.vault.keys.keyIds() == [rotation.newKeyId])
        #expect(throws: (any Error).self) { _ = try store.vault.keys.key(id: oldKey) }
        let reopened = try Store.open(at: store.root)
        for (i, row) in try reopened.recordings(RecordingQuery()).enumerated() {
            #expect(row.keyId == rotation.newKeyId)
            let after = try readFile(blobPath(row))
            #expect(after.count == before[i].count)
            #expect(after[160...] == before[i][160...], "audio chunks unchanged")
            #expect(after[0..<160] != before[i][0..<160], "header rewrapped")
            #expect(try readAll(reopened, row) == plain[i])
        }
    }

    @Test func interruptedRotationStillReads() throws {
        // A rotation that rewrote a blob header but died before the catalog update.
        let folder = TemporaryFolder()
        let store = try makeStore(folder)
        let file = fixtures + "/calls/\(dualCall).json"
        let row = try #require(try ingest(store, file).recording)
        let plain = try readAll(store, row)
        let newKey = try store.vault.keys.addActiveKey()
        var header = try BlobHeader(decoding: Array(try readFile(store.root + "/blobs/ap-south-1/" + row.blobKey)[0..<160]))
        let dataKey = try #require(try store.vault.unwrap(Array(row.wrappedKey), recordingId: header.recordingId, keyId: row.keyId))
        header.keyId = newKey
        header.wrappedKey = try store.vault.wrap(dataKey, recordingId: header.recordingId, keyId: newKey)
        try store.blobStore(region: "ap-south-1").rewriteHeader(row.blobKey, header.encoded())
        #expect(try readAll(store, row) == plain)
        // Running the rotation again finishes the job.
        _ = try store.rotateKeys(actor: "test")
        #expect(try readAll(try Store.open(at: store.root), try store.recording(callSid: row.callSid)) == plain)
    }

    @Test func fsckFindsAndRepairsOrphans() throws {
        let folder = TemporaryFolder()
        let store = try makeStore(folder)
        for file in try callFiles() { _ = try ingest(store, file) }
        #expect(try store.fsck(repair: false).isClean)
        let orphan = store.root + "/blobs/ap-south-1/ACdemo/2026/11/24/feedface.rec"
        try writeFile(orphan, [1, 2, 3])
        try writeFile(store.root + "/staging/abc.partial", [4, 5])
        let report = try store.fsck(repair: false)
        #expect(report.orphanBlobs == ["ap-south-1/ACdemo/2026/11/24/feedface.rec"])
        #expect(report.stagingLeftovers == ["abc.partial"])
        #expect(FileManager.default.fileExists(atPath: orphan))
        _ = try store.fsck(repair: true)
        #expect(!FileManager.default.fileExists(atPath: orphan))
        #expect(try store.fsck(repair: false).isClean)
        #expect(try store.recordings(RecordingQuery()).count == 7)
    }

    @Test func callDocumentSizeIsCataloguedAtIngestAndStaysRightThroughRetentionAndRotation() throws {
        let folder = TemporaryFolder()
        let store = try makeStore(folder)
        for file in try callFiles() { _ = try ingest(store, file) }
        func check(_ when: String) throws {
            let rows = try store.recordings(RecordingQuery(includeExpired: true))
            #expect(rows.count == 7)
            for r in rows {
                #expect(r.documentSize == Int64(try store.callDocument(r).count), "\(when): \(r.callSid)")
            }
        }
        try check("after ingest")
        let before = try store.recordings(RecordingQuery()).map(\.expiresAt)
        try store.applySettings(Array(#"{"account": {"retentionDays": 180}}"#.utf8), actor: "admin")
        #expect(try store.recordings(RecordingQuery()).map(\.expiresAt) != before)
        try check("after a retention change")
        _ = try store.rotateKeys(actor: "test")
        try check("after key rotation")
        #expect(try store.fsck(repair: false).isClean)
    }

    @Test func fsckFindsWrongCallDocumentSizesAndRepairFixesThem() throws {
        let folder = TemporaryFolder()
        let store = try makeStore(folder)
        for file in try callFiles() { _ = try ingest(store, file) }
        let rows = try store.recordings(RecordingQuery())
        try store.catalog.pool.write { db in
            try db.execute(sql: "UPDATE recording SET documentSize = 1 WHERE id = ?", arguments: [rows[0].id])
            try db.execute(sql: "UPDATE recording SET documentSize = NULL WHERE id = ?", arguments: [rows[1].id])
        }
        let found = try store.fsck(repair: false)
        #expect(!found.isClean)
        #expect(found.wrongDocumentSizes.count == 1 && found.wrongDocumentSizes[0].contains(rows[0].callSid))
        #expect(found.filledDocumentSizes == 0)
        let repaired = try store.fsck(repair: true)
        #expect(repaired.filledDocumentSizes == 1)
        #expect(try store.fsck(repair: false).isClean)
        for r in try store.recordings(RecordingQuery()) {
            #expect(r.documentSize == Int64(try store.callDocument(r).count))
        }
    }

    @Test func keyFileIsPrivateAndRequired() throws {
        let folder = TemporaryFolder()
        let store = try makeStore(folder)
        let keyPath = store.root + "/keys.json"
        var st = stat()
        #expect(stat(keyPath, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        chmod(keyPath, 0o644)
        #expect(throws: KeyError.self) { _ = try Store.open(at: store.root) }
    }

    /// flock(2) alone lets shared takers pass a waiting exclusive one, so a stream of ingests
    /// could keep a repair or the end of a key rotation waiting for ever.
    @Test func anExclusiveStoreLockIsNotPassedBySharedOnesAskingAfterIt() throws {
        let folder = TemporaryFolder()
        let store = try makeStore(folder)
        let order = Events()
        let group = DispatchGroup()
        func taker(_ name: String, after delay: Double, exclusive: Bool, holding hold: Double) {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                usleep(useconds_t(delay * 1_000_000))
                do {
                    try store.withStoreLock(exclusive: exclusive) {
                        order.add(name)
                        usleep(useconds_t(hold * 1_000_000))
                    }
                } catch {
                    order.add("\(name) failed: \(error)")
                }
            }
        }
        taker("first ingest", after: 0, exclusive: false, holding: 0.4)
        taker("repair", after: 0.1, exclusive: true, holding: 0)
        taker("next ingest", after: 0.2, exclusive: false, holding: 0)
        group.wait()
        #expect(order.list == ["first ingest", "repair", "next ingest"])
    }

    @Test func catalogMigrationsAreNamed() throws {
        let folder = TemporaryFolder()
        let store = try makeStore(folder)
        #expect(try store.catalog.appliedMigrations() == [
            "2026-11-24 v1: accounts, settings, flows, calls, recordings, audit",
            "2026-11-24 v2: stable numbers for the mount's inodes",
            "2026-11-24 v3: when a recording's expiry last moved",
            "2026-11-25 v4: the size of call.json; live recordings by start, covering the mount's folders",
            "2026-11-25 v5: when call.json last changed, by expiry moves and key rotations",
        ])
    }
}
