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
        let now = clock()
        return try catalog.pool.write { db in
            let (before, version) = try currentSettings(db)
            let after = try SettingsDocument.decode(bytes, plan: plan, accountSid: account.sid, current: before)
            guard after != before else {
                return SettingsChange(before: before, after: after, version: nil, expiriesChanged: 0)
            }
            try SettingsRow(accountSid: account.sid, version: version + 1,
                            document: SettingsDocument.storedJSON(after).prettyPrinted(), author: actor, createdAt: now).insert(db)
            var moved = 0
            if after.account.retentionDays != before.account.retentionDays || after.retention != before.retention {
                moved = try recomputeExpiries(db, settings: after)
            }
            try Store.audit(db, at: now, actor: actor, action: "settings.set", subject: account.sid, detail: .object([
                ("version", .int(version + 1)),
                ("before", SettingsDocument.json(before, accountSid: account.sid, plan: plan)),
                ("after", SettingsDocument.json(after, accountSid: account.sid, plan: plan)),
                ("expiriesChanged", .int(moved)),
            ]))
            return SettingsChange(before: before, after: after, version: version + 1, expiriesChanged: moved)
        }
    }

    /// Sets every live recording's expiry from `settings`; returns how many changed.
    func recomputeExpiries(_ db: Database, settings: RecordingSettings) throws -> Int {
        let groups = try Row.fetchAll(db, sql: """
            SELECT DISTINCT flow, outcome FROM recording WHERE accountSid = ? AND purgedAt IS NULL
            """, arguments: [account.sid])
        var changed = 0
        for g in groups {
            let flow: String = g["flow"], outcome: String = g["outcome"]
            let days = RetentionPolicy.days(settings, plan: plan, flow: flow, outcome: outcome).value
            try db.execute(sql: """
                UPDATE recording SET expiresAt = callStartedAt + ?
                WHERE accountSid = ? AND flow = ? AND outcome = ? AND purgedAt IS NULL AND expiresAt != callStartedAt + ?
                """, arguments: [Int64(days) * 86_400_000, account.sid, flow, outcome, Int64(days) * 86_400_000])
            changed += db.changesCount
        }
        return changed
    }
}
