// Store+Keys: account key rotation. Data keys are rewrapped; audio is never re-encrypted.

import Foundation
import GRDB
import RecordingCore

/// What a key rotation did.
public struct KeyRotation: Sendable {
    public let newKeyId: String
    public let retiredKeyIds: [String]
    public let rewrapped: Int
}

extension Store {
    /// Makes a new account key, rewraps every recording's data key with it (blob header and
    /// catalog), then retires the old keys. Safe to interrupt and run again: old keys stay until
    /// nothing needs them, and a half-rotated recording opens with either copy. Safe beside
    /// ingests and mounts in other processes: they read the key file again once it changed, an
    /// ingest that sealed with the old key before the new one existed is rewrapped before the old
    /// key goes, and two rotations at once run one after the other.
    /// - Parameter progress: called with (done, total) after each recording.
    public func rotateKeys(actor: String, progress: (Int, Int) -> Void = { _, _ in }) throws -> KeyRotation {
        try withStoreLock(exclusive: true, file: "keys.lock") {
            let keys = vault.keys
            let oldIds = try keys.keyIds()
            let newId = try keys.addActiveKey()
            func onOldKeys() throws -> [RecordingRow] {
                try catalog.pool.read { db in
                    try RecordingRow.filter(Column("purgedAt") == nil && Column("keyId") != newId).fetchAll(db)
                }
            }
            let rows = try onOldKeys()
            var done = 0
            for row in rows {
                try rewrap(row, to: newId)
                done += 1
                progress(done, rows.count)
            }
            // An ingest holds the store lock shared from sealing to cataloguing: with it held
            // exclusively, none is half-way with an old key, and every later one reads the new.
            try withStoreLock(exclusive: true) {
                for row in try onOldKeys() {
                    try rewrap(row, to: newId)
                    done += 1
                }
                try keys.retire(Set(oldIds))
            }
            try audit(actor: actor, action: "keys.rotate", subject: account.sid, detail: .object([
                ("newKeyId", .string(newId)), ("retired", .array(oldIds.map(JSONValue.string))), ("rewrapped", .int(done)),
            ]))
            return KeyRotation(newKeyId: newId, retiredKeyIds: oldIds, rewrapped: done)
        }
    }

    /// Rewraps one recording's data key under `keyId`: header first, then the catalog.
    func rewrap(_ row: RecordingRow, to keyId: String) throws {
        let blobs = try blobStore(for: row)
        let blob = try blobs.open(row.blobKey)
        var headerBytes = [UInt8](repeating: 0, count: BlobHeader.size)
        _ = try headerBytes.withUnsafeMutableBytes { try blob.read(at: 0, into: $0) }
        var header = try BlobHeader(decoding: headerBytes)
        let recordingId = header.recordingId
        guard let dataKey = try vault.unwrap(Array(row.wrappedKey), recordingId: recordingId, keyId: row.keyId) else {
            throw IntegrityError(subject: "call \(row.callSid)", detail: "the catalog's wrapped data key does not open with account key \(row.keyId)")
        }
        let wrapped: [UInt8]
        if row.keyId == keyId {
            wrapped = Array(row.wrappedKey)
        } else {
            wrapped = try vault.wrap(dataKey, recordingId: recordingId, keyId: keyId)
        }
        if header.keyId != keyId || header.wrappedKey != wrapped {
            header.keyId = keyId
            header.wrappedKey = wrapped
            try blobs.rewriteHeader(row.blobKey, header.encoded())
        }
        if row.keyId != keyId {
            // call.json names the key: its catalogued size and its mtime follow.
            var rewrapped = row
            rewrapped.keyId = keyId
            let size = Int64(try callDocument(rewrapped).count)
            try catalog.pool.write { db in
                try db.execute(sql: """
                    UPDATE recording SET keyId = ?, wrappedKey = ?, documentSize = ?, documentChangedAt = ? WHERE id = ?
                    """, arguments: [keyId, Data(wrapped), size, now, row.id])
            }
        }
    }
}
