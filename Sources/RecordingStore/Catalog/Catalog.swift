// Catalog: the SQLite catalog (WAL, one writer, concurrent readers) and its named migrations.

import GRDB

/// The store's catalog of accounts, settings, flows, calls, recordings and audit events.
///
/// Concurrency: a `DatabasePool` in WAL mode, so any number of readers run beside one writer.
/// Every change is one transaction, synced before it returns (`synchronous = FULL`).
public final class Catalog: Sendable {
    public let pool: DatabasePool
    public let path: String

    /// Opens (and migrates) the catalog at `path`, creating it if needed.
    public init(path: String) throws {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        self.path = path
        pool = try DatabasePool(path: path, configuration: config)
        try Catalog.migrator.migrate(pool)
    }

    /// Names of the migrations applied to this catalog, oldest first.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Catalog.migrator.appliedMigrations(db) }
    }

    /// The schema's history. Append only: a released migration is never edited.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("2026-11-24 v1: accounts, settings, flows, calls, recordings, audit") { db in
            try db.create(table: "account") { t in
                t.primaryKey("sid", .text)
                t.column("plan", .text).notNull()
                t.column("createdAt", .integer).notNull()
            }
            try db.create(table: "settings") { t in
                t.column("accountSid", .text).notNull().references("account")
                t.column("version", .integer).notNull()
                t.column("document", .text).notNull()
                t.column("author", .text).notNull()
                t.column("createdAt", .integer).notNull()
                t.primaryKey(["accountSid", "version"])
            }
            try db.create(table: "flow") { t in
                t.column("accountSid", .text).notNull().references("account")
                t.column("name", .text).notNull()
                t.column("createdAt", .integer).notNull()
                t.primaryKey(["accountSid", "name"])
            }
            try db.create(table: "call") { t in
                t.primaryKey("sid", .text)
                t.column("accountSid", .text).notNull().references("account")
                t.column("flow", .text).notNull()
                t.column("direction", .text).notNull()
                t.column("fromNumber", .text).notNull()
                t.column("toNumber", .text).notNull()
                t.column("callerId", .text)
                t.column("outcome", .text).notNull()
                t.column("startedAt", .integer).notNull()
                t.column("answeredAt", .integer)
                t.column("connectedAt", .integer)
                t.column("endedAt", .integer).notNull()
                t.column("recordParameter", .boolean)
                t.column("channelsParameter", .text)
                t.column("effectiveSettings", .text).notNull()
                t.column("recordingId", .text)
                t.column("noRecordingReason", .text)
                t.column("inputSha256", .text).notNull()
                t.column("ingestedAt", .integer).notNull()
            }
            try db.create(index: "call_by_start", on: "call", columns: ["accountSid", "startedAt"])
            try db.create(table: "recording") { t in
                t.primaryKey("id", .text)
                t.column("callSid", .text).notNull().unique().references("call")
                t.column("accountSid", .text).notNull().references("account")
                t.column("flow", .text).notNull()
                t.column("outcome", .text).notNull()
                t.column("callStartedAt", .integer).notNull()
                t.column("recordedFrom", .integer).notNull()
                t.column("durationMs", .integer).notNull()
                t.column("mode", .text).notNull()
                t.column("format", .text).notNull()
                t.column("channels", .integer).notNull()
                t.column("channelMap", .text).notNull()
                t.column("sampleRate", .integer).notNull()
                t.column("bitsPerSample", .integer).notNull()
                t.column("plaintextSize", .integer).notNull()
                t.column("sha256", .text).notNull()
                t.column("region", .text).notNull()
                t.column("blobStore", .text).notNull()
                t.column("blobKey", .text).notNull().unique()
                t.column("chunkSize", .integer).notNull()
                t.column("wrappedKey", .blob).notNull()
                t.column("keyId", .text).notNull()
                t.column("createdAt", .integer).notNull()
                t.column("expiresAt", .integer).notNull()
                t.column("purgedAt", .integer)
            }
            // The mount's queries: a day's calls, a day's calls in one flow, what expires next.
            try db.create(index: "recording_by_start", on: "recording", columns: ["accountSid", "callStartedAt"])
            try db.create(index: "recording_by_flow_start", on: "recording", columns: ["accountSid", "flow", "callStartedAt"])
            try db.create(index: "recording_by_expiry", on: "recording", columns: ["expiresAt"], condition: Column("purgedAt") == nil)
            try db.create(index: "recording_by_key", on: "recording", columns: ["keyId"])
            try db.create(table: "audit") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .integer).notNull()
                t.column("actor", .text).notNull()
                t.column("action", .text).notNull()
                t.column("subject", .text).notNull()
                t.column("detail", .text).notNull()
            }
            try db.create(index: "audit_by_subject", on: "audit", columns: ["subject", "at"])
            try db.execute(sql: """
                CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
                BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
                CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
                BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
                """)
        }
        m.registerMigration("2026-11-24 v2: stable numbers for the mount's inodes") { db in
            // A recording's and a flow's number never changes once given (rowids may, on VACUUM),
            // so the mount's inode numbers stay the same across remounts. New rows get the next
            // number from a trigger, so writers need not know about it.
            for table in ["recording", "flow"] {
                try db.execute(sql: """
                    ALTER TABLE \(table) ADD COLUMN number INTEGER;
                    UPDATE \(table) SET number = rowid;
                    CREATE UNIQUE INDEX \(table)_by_number ON \(table)(number);
                    CREATE TRIGGER \(table)_numbering AFTER INSERT ON \(table) WHEN NEW.number IS NULL
                    BEGIN
                        UPDATE \(table) SET number = (SELECT COALESCE(MAX(number), 0) + 1 FROM \(table))
                        WHERE rowid = NEW.rowid;
                    END;
                    """)
            }
        }
        m.registerMigration("2026-11-24 v3: when a recording's expiry last moved") { db in
            // A retention change rewrites expiries; call.json shows the expiry, so its mtime is
            // the later of the call's start and this (export tools then copy it again).
            try db.execute(sql: "ALTER TABLE recording ADD COLUMN expiryChangedAt INTEGER")
        }
        m.registerMigration("2026-11-25 v4: the size of call.json; live recordings by start, covering the mount's folders") { db in
            // Catalogued at ingest, so the mount lists a call folder without building the
            // document. Older recordings keep NULL (the mount builds theirs when first asked;
            // fsck --repair fills them in).
            try db.execute(sql: "ALTER TABLE recording ADD COLUMN documentSize INTEGER")
            // A date's flow folders (which flows, how many calls, the newest) and the totals
            // statfs shows are counted from this index alone, never from the wide rows.
            try db.execute(sql: """
                CREATE INDEX recording_live_by_start ON recording(accountSid, callStartedAt, flow, expiresAt, plaintextSize)
                WHERE purgedAt IS NULL
                """)
        }
        m.registerMigration("2026-11-25 v5: when call.json last changed, by expiry moves and key rotations") { db in
            // A key rotation changes call.json (it names the key) as a retention change does, so
            // the column that dated expiry moves now dates both.
            try db.execute(sql: "ALTER TABLE recording RENAME COLUMN expiryChangedAt TO documentChangedAt")
            // The mount follows the newest change from this index alone.
            try db.execute(sql: """
                CREATE INDEX recording_document_changes ON recording(documentChangedAt)
                WHERE documentChangedAt IS NOT NULL
                """)
        }
        return m
    }
}
