// Store+Tree: the date/flow/call tree the mount shows, straight from the catalog's indexes.
// Expired and deleted recordings are never part of it.

import GRDB
import RecordingCore

/// A date folder: a local date holding at least one live recording.
public struct DayFolder: Sendable, Equatable {
    /// Days since 1970-01-01 of the local date (the folder's identity).
    public let day: Int64
    /// `YYYY-MM-DD`.
    public let name: String
    /// The newest call start in the folder (its mtime).
    public let newestStart: Int64
}

/// A flow folder within a date folder.
public struct FlowFolder: Sendable, Equatable {
    public let name: String
    /// The flow's stable number.
    public let number: Int64
    public let callCount: Int
    public let newestStart: Int64
    /// When its first recording expires (the folder's count is right until then).
    public let earliestExpiry: Int64
}

/// A call folder: a live recording as a flow folder lists it, with what its files' names and
/// attributes need (a walk lists a call folder right after its flow folder: nothing more is
/// read for it).
public struct CallFolder: Sendable {
    public let callSid: String
    public let number: Int64
    public let callStartedAt: Int64
    public let expiresAt: Int64
    public let flow: String
    public let format: String
    public let channels: Int
    public let plaintextSize: Int64
    public let documentChangedAt: Int64?
    /// nil for recordings ingested before catalog v4.
    public let documentSize: Int64?

    /// The columns `init(_:)` reads, in its order.
    static let columns = "callSid, number, callStartedAt, expiresAt, flow, format, channels, plaintextSize, documentChangedAt, documentSize"

    /// From a row of `columns`, by position.
    init(_ row: Row) {
        callSid = row[0]
        number = row[1]
        callStartedAt = row[2]
        expiresAt = row[3]
        flow = row[4]
        format = row[5]
        channels = row[6]
        plaintextSize = row[7]
        documentChangedAt = row[8]
        documentSize = row[9]
    }

    /// The file name of the recording in the mount (`recording.wav`).
    public var fileName: String { "recording.\(format)" }

    /// A whole catalogued recording, as a listing would read it.
    public init(_ r: RecordingRow) {
        callSid = r.callSid
        number = r.number ?? 0
        callStartedAt = r.callStartedAt
        expiresAt = r.expiresAt
        flow = r.flow
        format = r.format
        channels = r.channels
        plaintextSize = r.plaintextSize
        documentChangedAt = r.documentChangedAt
        documentSize = r.documentSize
    }
}

/// Recordings that came or went: where they sit in the tree.
public struct TreeChanges: Sendable {
    public struct Place: Sendable, Hashable {
        public let callStartedAt: Int64
        public let flowNumber: Int64
    }
    /// The highest recording number now catalogued.
    public let newestNumber: Int64
    public let places: [Place]
}

extension Store {
    /// The condition every recording the mount shows must meet at `now`.
    func liveRecordings(now: Int64) -> SQLExpression {
        Column("accountSid") == account.sid && Column("purgedAt") == nil && Column("expiresAt") > now
    }

    /// The local date named `YYYY-MM-DD` as a day number, or nil.
    public static func dayNumber(_ name: String) -> Int64? {
        guard name.count == 10, let t = Timestamp(rfc3339: name + "T00:00:00Z") else { return nil }
        return t.milliseconds / 86_400_000
    }

    /// `YYYY-MM-DD` of a day number.
    public static func dayName(_ day: Int64) -> String {
        let (y, m, d) = Timestamp.civilFromDays(Int(day))
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))"
    }

    /// Date folders with live recordings at `now`, oldest first. Seeks date by date through the
    /// start-time index, so it costs one index probe per date, not one row per recording.
    public func dayFolders(dates: LocalDate, now: Int64) throws -> [DayFolder] {
        try catalog.pool.read { db in
            var out: [DayFolder] = []
            var from = Int64.min
            while let start = try Int64.fetchOne(db, RecordingRow.select(min(Column("callStartedAt")))
                .filter(liveRecordings(now: now) && Column("callStartedAt") >= from)) {
                let name = dates.date(of: Timestamp(milliseconds: start))
                guard let day = Store.dayNumber(name), let range = dates.range(of: name) else { break }
                let newest = try Int64.fetchOne(db, RecordingRow.select(max(Column("callStartedAt")))
                    .filter(liveRecordings(now: now) && Column("callStartedAt") >= range.lowerBound.milliseconds
                            && Column("callStartedAt") < range.upperBound.milliseconds)) ?? start
                out.append(DayFolder(day: day, name: name, newestStart: newest))
                from = range.upperBound.milliseconds
            }
            return out
        }
    }

    /// One date folder, if it holds live recordings.
    public func dayFolder(_ day: Int64, dates: LocalDate, now: Int64) throws -> DayFolder? {
        let name = Store.dayName(day)
        guard let range = dates.range(of: name) else { return nil }
        let newest = try catalog.pool.read { db in
            try Int64.fetchOne(db, RecordingRow.select(max(Column("callStartedAt")))
                .filter(liveRecordings(now: now) && Column("callStartedAt") >= range.lowerBound.milliseconds
                        && Column("callStartedAt") < range.upperBound.milliseconds))
        }
        return newest.map { DayFolder(day: day, name: name, newestStart: $0) }
    }

    /// The flow folders of a date, by name.
    public func flowFolders(day: Int64, dates: LocalDate, now: Int64) throws -> [FlowFolder] {
        guard let range = dates.range(of: Store.dayName(day)) else { return [] }
        return try catalog.pool.read { db in
            // Counted from the covering index (catalog v4), then joined with the few flows.
            let rows = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT g.flow AS name, f.number AS number, g.calls AS calls, g.newest AS newest, g.expiry AS expiry FROM
                  (SELECT flow, COUNT(*) AS calls, MAX(callStartedAt) AS newest, MIN(expiresAt) AS expiry
                   FROM recording INDEXED BY recording_live_by_start
                   WHERE accountSid = ? AND purgedAt IS NULL AND expiresAt > ? AND callStartedAt >= ? AND callStartedAt < ?
                   GROUP BY flow) g
                JOIN flow f ON f.accountSid = ? AND f.name = g.flow
                ORDER BY g.flow
                """), arguments: [account.sid, now, range.lowerBound.milliseconds, range.upperBound.milliseconds, account.sid])
            return rows.map {
                FlowFolder(name: $0["name"], number: $0["number"], callCount: $0["calls"], newestStart: $0["newest"], earliestExpiry: $0["expiry"])
            }
        }
    }

    /// The live recordings of one flow on one date, by call sid.
    public func recordings(day: Int64, flow: String, dates: LocalDate, now: Int64) throws -> [RecordingRow] {
        guard let range = dates.range(of: Store.dayName(day)) else { return [] }
        let request = RecordingRow.filter(liveRecordings(now: now) && Column("flow") == flow
                                          && Column("callStartedAt") >= range.lowerBound.milliseconds
                                          && Column("callStartedAt") < range.upperBound.milliseconds)
            .order(Column("callSid"))
        return try catalog.pool.read { db in try request.fetchAll(db) }
    }

    /// The call folders of one flow on one date, by call sid, one at a time and none kept:
    /// only what a listing shows and what listing each call folder needs, read through a
    /// cursor (a busy flow's day holds 100,000 calls and more).
    public func forEachCallFolder(day: Int64, flow: String, dates: LocalDate, now: Int64,
                                  _ body: (CallFolder) throws -> Void) throws {
        guard let range = dates.range(of: Store.dayName(day)) else { return }
        try catalog.pool.read { db in
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT \(CallFolder.columns) FROM recording
                WHERE accountSid = ? AND flow = ? AND purgedAt IS NULL AND expiresAt > ?
                  AND callStartedAt >= ? AND callStartedAt < ?
                ORDER BY callSid
                """), arguments: [account.sid, flow, now, range.lowerBound.milliseconds, range.upperBound.milliseconds])
            while let row = try rows.next() { try body(CallFolder(row)) }
        }
    }

    /// A live recording's call folder by stable number (what getattr and a listing need).
    public func callFolder(number: Int64, now: Int64) throws -> CallFolder? {
        try catalog.pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: """
                SELECT \(CallFolder.columns) FROM recording
                WHERE number = ? AND accountSid = ? AND purgedAt IS NULL AND expiresAt > ?
                """), arguments: [number, account.sid, now]).map(CallFolder.init)
        }
    }

    /// A live recording's call folder by call sid (what lookup needs).
    public func callFolder(callSid: String, now: Int64) throws -> CallFolder? {
        try catalog.pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: """
                SELECT \(CallFolder.columns) FROM recording
                WHERE callSid = ? AND accountSid = ? AND purgedAt IS NULL AND expiresAt > ?
                """), arguments: [callSid, account.sid, now]).map(CallFolder.init)
        }
    }

    // The mount asks these once per file or folder it shows: prepared once per connection
    // (cached statements), not built and authorised anew each time.

    /// The live recording with a stable number.
    public func recording(number: Int64, now: Int64) throws -> RecordingRow? {
        try catalog.pool.read { db in
            try RecordingRow.fetchOne(db.cachedStatement(sql: """
                SELECT * FROM recording WHERE number = ? AND accountSid = ? AND purgedAt IS NULL AND expiresAt > ?
                """), arguments: [number, account.sid, now])
        }
    }

    /// The live recording of a call, by sid.
    public func liveRecording(callSid: String, now: Int64) throws -> RecordingRow? {
        try catalog.pool.read { db in
            try RecordingRow.fetchOne(db.cachedStatement(sql: """
                SELECT * FROM recording WHERE callSid = ? AND accountSid = ? AND purgedAt IS NULL AND expiresAt > ?
                """), arguments: [callSid, account.sid, now])
        }
    }

    /// A flow by stable number or by name.
    public func flow(number: Int64) throws -> FlowRow? {
        try catalog.pool.read { db in
            try FlowRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM flow WHERE number = ? AND accountSid = ?"),
                                 arguments: [number, account.sid])
        }
    }

    public func flow(named name: String) throws -> FlowRow? {
        try catalog.pool.read { db in
            try FlowRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM flow WHERE accountSid = ? AND name = ?"),
                                 arguments: [account.sid, name])
        }
    }

    /// Where the tree changed since the mount last looked: recordings catalogued after number
    /// `after`, and recordings whose expiry fell in `(from, to]` (they leave their folders). The
    /// mount tells the kernel to forget those folders' cached listings. Cheap when nothing
    /// changed: one probe of the numbering index and one of the expiry index.
    public func treeChanges(after: Int64, expiredFrom from: Int64, to: Int64) throws -> TreeChanges {
        try catalog.pool.read { db in
            let newest = try newestRecordingNumber(db)
            var places: [TreeChanges.Place] = []
            func collect(_ rows: [Row]) {
                places += rows.map { TreeChanges.Place(callStartedAt: $0["callStartedAt"], flowNumber: $0["number"]) }
            }
            if newest > after {
                collect(try Row.fetchAll(db, sql: """
                    SELECT r.callStartedAt, f.number FROM recording r JOIN flow f ON f.accountSid = r.accountSid AND f.name = r.flow
                    WHERE r.number > ? AND r.accountSid = ?
                    """, arguments: [after, account.sid]))
            }
            if to > from {
                collect(try Row.fetchAll(db.cachedStatement(sql: """
                    SELECT r.callStartedAt, f.number FROM recording r JOIN flow f ON f.accountSid = r.accountSid AND f.name = r.flow
                    WHERE r.purgedAt IS NULL AND r.expiresAt > ? AND r.expiresAt <= ? AND r.accountSid = ?
                    """), arguments: [from, to, account.sid]))
            }
            return TreeChanges(newestNumber: max(newest, after), places: places)
        }
    }

    /// The highest recording number catalogued (0 for none).
    public func newestRecordingNumber() throws -> Int64 {
        try catalog.pool.read { db in try newestRecordingNumber(db) }
    }

    func newestRecordingNumber(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(number) FROM recording")) ?? 0
    }

    /// How many live recordings and plaintext bytes the mount shows.
    public func liveTotals(now: Int64) throws -> (recordings: Int, bytes: Int64) {
        try catalog.pool.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(*) AS n, COALESCE(SUM(plaintextSize), 0) AS bytes FROM recording INDEXED BY recording_live_by_start
                WHERE accountSid = ? AND purgedAt IS NULL AND expiresAt > ?
                """, arguments: [account.sid, now])!
            return (row["n"], row["bytes"])
        }
    }
}
