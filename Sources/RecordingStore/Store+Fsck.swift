// Store+Fsck: consistency of blobs and catalog: orphan blobs, leftover staging files,
// catalogued recordings whose blob is missing or the wrong size.

import GRDB
import Glibc
import RecordingCore

/// What `fsck` found (and, with repair, removed).
public struct FsckReport: Sendable {
    /// Blobs no catalogued recording names (left by a crash between blob and catalog).
    public var orphanBlobs: [String] = []
    /// Half-written blobs in staging.
    public var stagingLeftovers: [String] = []
    /// Catalogued recordings whose blob is missing or not the size their plaintext needs.
    public var damaged: [String] = []
    /// Recordings whose catalogued `call.json` size is not their document's (repair sets it).
    public var wrongDocumentSizes: [String] = []
    /// Recordings ingested before sizes were catalogued (catalog v4) whose size repair filled in.
    public var filledDocumentSizes = 0
    public var checked = 0
    public var repaired = false

    public var isClean: Bool { orphanBlobs.isEmpty && stagingLeftovers.isEmpty && damaged.isEmpty && wrongDocumentSizes.isEmpty }
}

extension Store {
    /// Holds the store lock: shared for ingest (from sealing a recording to cataloguing it),
    /// exclusive for repair, so repair never takes a blob that an ingest has written but not
    /// yet catalogued for an orphan, and for the end of a key rotation. `file` names another
    /// lock in the store (`keys.lock`: one key rotation at a time).
    func withStoreLock<T>(exclusive: Bool, file: String = "lock", _ body: () throws -> T) throws -> T {
        func take(_ name: String) throws -> Int32 {
            let path = root + "/" + name
            let fd = try SystemError.check("open", path) { Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
            do {
                try SystemError.check("flock", path) { flock(fd, exclusive ? LOCK_EX : LOCK_SH) }
            } catch {
                close(fd)
                throw error
            }
            return fd
        }
        // flock(2) grants a shared lock while an exclusive one waits, so ingests coming one
        // after another could keep a repair or a rotation waiting for ever: every taker passes
        // a gate first, held (in the same mode) only until its lock is taken: a moment, for a
        // shared taker.
        let gate = try take(file + ".gate")
        let fd: Int32
        do {
            fd = try take(file)
        } catch {
            close(gate)
            throw error
        }
        close(gate)
        defer { close(fd) }
        return try body()
    }

    /// Checks every blob against the catalog, and every catalogued `call.json` size against its
    /// document; with `repair`, deletes orphans and staging leftovers and sets the sizes.
    public func fsck(repair: Bool) throws -> FsckReport {
        try withStoreLock(exclusive: repair) {
            var report = FsckReport()
            let rows = try catalog.pool.read { db in try RecordingRow.filter(Column("purgedAt") == nil).fetchAll(db) }
            var known = Set<String>()
            for row in rows {
                known.insert(row.region + "/" + row.blobKey)
                report.checked += 1
                do {
                    let size = try blobStore(for: row).size(row.blobKey)
                    let layout = ChunkLayout(headerSize: BlobHeader.size, chunkSize: row.chunkSize)
                    if layout.plaintextSize(blobSize: size) != row.plaintextSize {
                        report.damaged.append("call \(row.callSid): blob \(row.blobKey) is \(size) bytes, expected \(layout.blobSize(plaintextSize: row.plaintextSize))")
                    }
                } catch {
                    report.damaged.append("call \(row.callSid): \(error)")
                }
                let size = Int64(try callDocument(row).count)
                if row.documentSize != size {
                    if let catalogued = row.documentSize {
                        report.wrongDocumentSizes.append("call \(row.callSid): call.json is \(size) bytes, the catalog says \(catalogued)")
                    } else if repair {
                        report.filledDocumentSizes += 1
                    }
                    if repair {
                        try catalog.pool.write { db in
                            try db.execute(sql: "UPDATE recording SET documentSize = ? WHERE id = ?", arguments: [size, row.id])
                        }
                    }
                }
            }
            for region in Region.allCases.map(\.rawValue) {
                let blobs = blobStore(region: region)
                for key in try blobs.list(prefix: "") where !known.contains(region + "/" + key) {
                    report.orphanBlobs.append(region + "/" + key)
                    if repair { try blobs.delete(key) }
                }
            }
            let staging = LocalBlobStore(root: stagingPath, name: "staging")
            for key in try staging.list(prefix: "") {
                report.stagingLeftovers.append(key)
                if repair { try staging.delete(key) }
            }
            report.repaired = repair
            return report
        }
    }
}
