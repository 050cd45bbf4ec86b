// Store+Settings: reading, validating and applying settings. One validation and one apply
// path, shared by `recfs settings` and the mount's settings files.

import GRDB
import RecordingCore

/// What applying a settings document did.
public struct SettingsChange: Sendable {
    public let before: RecordingSettings
    public let after: RecordingSettings
    /// The new settings version, or nil when the document changed nothing.
    public let version: Int?
    /// Recordings whose expiry moved because retention changed.
    public let expiriesChanged: Int
}

extension Store {
    /// The current settings and their version.
    public func currentSettings() throws -> (settings: RecordingSettings, version: Int) {
        try catalog.pool.read { db in try currentSettings(db) }
    }

    func currentSettings(_ db: Database) throws -> (settings: RecordingSettings, version: Int) {
        guard let row = try SettingsRow.filter(Column("accountSid") == account.sid)
            .order(Column("version").desc).fetchOne(db) else {
            throw StoreError("the catalog holds no settings for account \(account.sid)")
        }
        let defaults = RecordingSettings.defaults(plan: plan, region: .apSouth1)
        do {
            let s = try SettingsDocument.decode(Array(row.document.utf8), plan: plan, accountSid: account.sid, current: defaults)
            return (s, row.version)
        } catch {
            throw StoreError("stored settings version \(row.version) no longer validate: \(error)")
        }
    }

    /// The settings document as `recfs settings show` prints it (secrets masked).
    public func settingsDocument() throws -> JSONValue {
        SettingsDocument.json(try currentSettings().settings, accountSid: account.sid, plan: plan)
    }

    /// Checks a settings document without applying it.
    public func validateSettings(_ bytes: [UInt8]) throws -> RecordingSettings {
        try SettingsDocument.decode(bytes, plan: plan, accountSid: account.sid, current: try currentSettings().settings)
    }

    /// Validates and applies a settings document in one transaction: a new settings version,
    /// new expiry times for existing recordings if retention changed, and an audit event with
    /// the settings before and after. An invalid document throws `InvalidDocument` and changes nothing.
    @discardableResult
    public func applySettings(_ bytes: [UInt8], actor: String) throws -> SettingsChange {
        try applySettings(actor: actor, action: "settings.set") { current in
            try SettingsDocument.decode(bytes, plan: plan, accountSid: account.sid, current: current)
        }
    }

    /// Writes one `.settings/` file of the mount: the same rules and the same apply path.
    @discardableResult
    public func applySettingsFile(_ file: SettingsFile, _ bytes: [UInt8], actor: String) throws -> SettingsChange {
        try applySettings(actor: actor, action: "settings.set", subject: file.path) { current in
            try file.decode(bytes, plan: plan, accountSid: account.sid, current: current)
        }
    }

    /// Removes a flow override (a flow file removed from the mount).
    @discardableResult
    public func removeFlowOverride(_ flow: String, actor: String) throws -> SettingsChange {
        try applySettings(actor: actor, action: "settings.set", subject: "flows/\(flow).json") { current in
            guard current.flows[flow] != nil else { throw StoreError("flow \(flow) has no override") }
            return SettingsFile.flow(flow).removed(from: current)
        }
    }

    /// The one apply path: `change` turns the current settings into the new ones inside the
    /// write transaction, so concurrent writers never mix (the last valid one wins whole). The
    /// result is checked against the plan again before anything is written.
    @discardableResult
    public func applySettings(actor: String, action: String, subject: String? = nil,
                              _ change: (RecordingSettings) throws -> RecordingSettings) throws -> SettingsChange {
        let now = clock()
        return try catalog.pool.write { db in
            let (before, version) = try currentSettings(db)
            let after = try change(before)
            let problems = SettingsDocument.planViolations(after, plan: plan)
            guard problems.isEmpty else { throw InvalidDocument(problems) }
            guard after != before else {
                return SettingsChange(before: before, after: after, version: nil, expiriesChanged: 0)
            }
            try SettingsRow(accountSid: account.sid, version: version + 1,
                            document: SettingsDocument.storedJSON(after).prettyPrinted(), author: actor, createdAt: now).insert(db)
            var moved = 0
            if after.account.retentionDays != before.account.retentionDays || after.retention != before.retention {
                moved = try recomputeExpiries(db, settings: after, now: now)
            }
            var detail: [(key: String, value: JSONValue)] = [("version", .int(version + 1))]
            if let subject { detail.append(("file", .string(subject))) }
            detail += [
                ("before", SettingsDocument.json(before, accountSid: account.sid, plan: plan)),
                ("after", SettingsDocument.json(after, accountSid: account.sid, plan: plan)),
                ("expiriesChanged", .int(moved)),
            ]
            try Store.audit(db, at: now, actor: actor, action: action, subject: account.sid, detail: .object(detail))
            return SettingsChange(before: before, after: after, version: version + 1, expiriesChanged: moved)
        }
    }

    /// The newest settings version and when it was made (cheap: one index probe). The mount
    /// polls it to notice changes made by `recfs settings set`.
    public func settingsStamp() throws -> (version: Int, at: Int64) {
        try catalog.pool.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT version, createdAt FROM settings WHERE accountSid = ? ORDER BY version DESC LIMIT 1
                """, arguments: [account.sid]) else { throw StoreError("the catalog holds no settings for account \(account.sid)") }
            return (row["version"], row["createdAt"])
        }
    }

    /// The newest change to any call.json after its ingest (a retention change or a key
    /// rotation) and how many documents changed at that instant; nil when none changed. A
    /// rotation dates each recording as it goes, several within one millisecond, so the count
    /// tells a later one from an earlier one. Read from an index, cheap to ask often.
    public func documentsChangedAt() throws -> DocumentsStamp? {
        try catalog.pool.read { db in
            guard let at = try Int64.fetchOne(db, sql: """
                SELECT MAX(documentChangedAt) FROM recording INDEXED BY recording_document_changes
                WHERE documentChangedAt IS NOT NULL
                """) else { return nil }
            let count = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM recording INDEXED BY recording_document_changes WHERE documentChangedAt = ?
                """, arguments: [at]) ?? 0
            return DocumentsStamp(at: at, count: count)
        }
    }

    /// Sets every live recording's expiry from `settings`; returns how many changed.
    func recomputeExpiries(_ db: Database, settings: RecordingSettings, now: Int64) throws -> Int {
        let groups = try Row.fetchAll(db, sql: """
            SELECT DISTINCT flow, outcome FROM recording WHERE accountSid = ? AND purgedAt IS NULL
            """, arguments: [account.sid])
        var changed = 0
        for g in groups {
            let flow: String = g["flow"], outcome: String = g["outcome"]
            let days = RetentionPolicy.days(settings, plan: plan, flow: flow, outcome: outcome).value
            try db.execute(sql: """
                UPDATE recording SET expiresAt = callStartedAt + ?, documentChangedAt = ?
                WHERE accountSid = ? AND flow = ? AND outcome = ? AND purgedAt IS NULL AND expiresAt != callStartedAt + ?
                """, arguments: [Int64(days) * 86_400_000, now, account.sid, flow, outcome, Int64(days) * 86_400_000])
            changed += db.changesCount
        }
        return changed
    }
}

/// The newest call.json change: when, and how many documents changed then.
public struct DocumentsStamp: Equatable, Sendable {
    public let at: Int64
    public let count: Int
}
