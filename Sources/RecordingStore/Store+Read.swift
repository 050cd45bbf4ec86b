// Store+Read: finding recordings (by date, flow, call) and reading them back decrypted.

import GRDB
import RecordingCore

/// Which recordings to list.
public struct RecordingQuery: Sendable {
    /// A local date (`YYYY-MM-DD`) in the account's time zone.
    public var date: String?
    public var flow: String?
    /// Include recordings past their expiry that are not yet deleted.
    public var includeExpired: Bool

    public init(date: String? = nil, flow: String? = nil, includeExpired: Bool = false) {
        self.date = date
        self.flow = flow
        self.includeExpired = includeExpired
    }
}

extension Store {
    /// The account's local dates for the mount's folders.
    public func localDates() throws -> LocalDate {
        LocalDate(timeZone: try currentSettings().settings.account.timeZone)
    }

    /// Recordings matching `query`, oldest first. Expired ones are left out from their expiry
    /// instant on, unless asked for.
    public func recordings(_ query: RecordingQuery) throws -> [RecordingRow] {
        var request = RecordingRow.filter(Column("accountSid") == account.sid && Column("purgedAt") == nil)
        if let date = query.date {
            guard let range = try localDates().range(of: date) else {
                throw StoreError("--date: \"\(date)\" is not a date such as 2026-11-24")
            }
            request = request.filter(Column("callStartedAt") >= range.lowerBound.milliseconds
                                     && Column("callStartedAt") < range.upperBound.milliseconds)
        }
        if let flow = query.flow { request = request.filter(Column("flow") == flow) }
        if !query.includeExpired { request = request.filter(Column("expiresAt") > clock()) }
        let r = request.order(Column("callStartedAt"), Column("callSid"))
        return try catalog.pool.read { db in try r.fetchAll(db) }
    }

    /// The catalogued call with `sid`.
    public func call(_ sid: String) throws -> CallRow {
        guard let row = try catalog.pool.read({ db in
            try CallRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM call WHERE sid = ?"), arguments: [sid])
        }) else {
            throw StoreError("no call \(sid) in this store")
        }
        return row
    }

    /// The live recording of call `sid`; a clear error if the call has none or it expired.
    public func recording(callSid sid: String) throws -> RecordingRow {
        let call = try call(sid)
        guard let id = call.recordingId,
              let row = try catalog.pool.read({ db in try RecordingRow.fetchOne(db, key: id) }) else {
            throw StoreError("call \(sid) has no recording: \(call.noRecordingReason ?? "none was made")")
        }
        if row.purgedAt != nil { throw StoreError("the recording of call \(sid) was deleted for good") }
        if row.expiresAt <= clock() {
            throw StoreError("the recording of call \(sid) expired at \(Timestamp(milliseconds: row.expiresAt)) and is no longer readable")
        }
        return row
    }

    /// Opens a recording for authenticated reads. Integrity failures are audited and thrown.
    public func openRecording(_ row: RecordingRow) throws -> RecordingReader {
        do {
            return try open(row)
        } catch let error as KeyError {
            // A key rotation may have rewrapped the recording and retired the key `row` names
            // since it was read: the catalog names the key that opens it now.
            guard let now = try catalog.pool.read({ db in try RecordingRow.fetchOne(db, key: row.id) }),
                  now.keyId != row.keyId else { throw error }
            return try open(now)
        }
    }

    private func open(_ row: RecordingRow) throws -> RecordingReader {
        let subject = "call \(row.callSid)"
        do {
            let blob = try blobStore(for: row).open(row.blobKey)
            return try vault.open(blob, recordingId: row.id, keyId: row.keyId, wrappedKey: Array(row.wrappedKey),
                                  plaintextSize: row.plaintextSize, subject: subject)
        } catch let error as IntegrityError {
            try? recordIntegrityFailure(row, error)
            throw error
        } catch let error as BlobNotFound {
            throw StoreError("the recording of call \(row.callSid) is missing: \(error)")
        }
    }

    /// Streams `range` of a recording's plaintext to `sink`. Any chunk failing authentication
    /// stops the stream with an `IntegrityError` (and an audit event) before its bytes are given out.
    public func read(_ row: RecordingRow, with reader: RecordingReader? = nil, range: Range<Int64>? = nil,
                     to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let reader = try reader ?? openRecording(row)
        do {
            try reader.read(range ?? 0..<row.plaintextSize, to: sink)
        } catch let error as IntegrityError {
            try? recordIntegrityFailure(row, error)
            throw error
        }
    }

    /// Audits an integrity failure of a recording (the faces call this when a read fails).
    public func recordIntegrityFailure(_ row: RecordingRow, _ error: IntegrityError) throws {
        try audit(actor: Store.currentActor, action: "recording.integrity-failure", subject: row.callSid,
                  detail: .object([("recording", .string(row.id)), ("detail", .string(error.detail))]))
    }
}
