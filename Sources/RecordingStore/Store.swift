// Store: the one facade every face (CLI, mount, API) uses: catalog, vault, blob stores, audit.

import Foundation
import GRDB
import Glibc
import RecordingCore

/// A failure of a store operation, in one sentence naming what failed.
public struct StoreError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A recording store on disk:
/// ```
/// STORE/catalog.sqlite      the catalog (SQLite, WAL)
/// STORE/keys.json           account keys (mode 0600), the embedded key provider
/// STORE/blobs/REGION/…      encrypted recordings, one folder per region
/// STORE/staging/            blobs being written (never read)
/// ```
///
/// Thread safety: a `Store` may be shared by threads; the catalog serialises writers and
/// readers are concurrent. `RecordingReader`s it hands out belong to one thread each.
public final class Store: Sendable {
    public let root: String
    public let catalog: Catalog
    public let vault: Vault
    public let account: AccountRow
    /// The time used for ingest, expiry and audit (milliseconds since the epoch); tests set it.
    let clock: @Sendable () -> Int64

    public var plan: Plan { Plan(rawValue: account.plan) ?? .starter }

    static func catalogPath(_ root: String) -> String { root + "/catalog.sqlite" }
    static func keyPath(_ root: String) -> String { root + "/keys.json" }
    var stagingPath: String { root + "/staging" }

    public static let systemClock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    init(root: String, catalog: Catalog, keys: any KeyProvider, account: AccountRow, clock: @escaping @Sendable () -> Int64) {
        self.root = root
        self.catalog = catalog
        self.vault = Vault(keys: keys)
        self.account = account
        self.clock = clock
    }

    /// Makes a new store for one account, with the plan's default settings and a fresh account key.
    public static func create(at root: String, accountSid: String, plan: Plan, region: Region, actor: String,
                              clock: @escaping @Sendable () -> Int64 = systemClock) throws -> Store {
        if let problem = Names.accountSidProblem(accountSid) { throw StoreError("--account: \(problem)") }
        if Files.exists(catalogPath(root)) { throw StoreError("\(root) already holds a store (catalog.sqlite exists)") }
        try Files.makeDirectories(root)
        // The catalog holds custom-storage credentials and the key file the account keys:
        // the store is its owner's alone.
        try SystemError.check("chmod", root) { chmod(root, 0o700) }
        try Files.makeDirectories(root + "/staging")
        try Files.makeDirectories(root + "/blobs/" + region.rawValue)
        let keys = try KeyFile.create(path: keyPath(root))
        let catalog = try Catalog(path: catalogPath(root))
        let now = clock()
        let account = AccountRow(sid: accountSid, plan: plan.rawValue, createdAt: now)
        let settings = RecordingSettings.defaults(plan: plan, region: region)
        try catalog.pool.write { db in
            try account.insert(db)
            try SettingsRow(accountSid: accountSid, version: 1, document: SettingsDocument.storedJSON(settings).prettyPrinted(),
                            author: actor, createdAt: now).insert(db)
            try Store.audit(db, at: now, actor: actor, action: "store.create", subject: accountSid,
                            detail: .object([("plan", .string(plan.rawValue)), ("region", .string(region.rawValue))]))
        }
        return Store(root: root, catalog: catalog, keys: keys, account: account, clock: clock)
    }

    /// Opens an existing store.
    public static func open(at root: String, clock: @escaping @Sendable () -> Int64 = systemClock) throws -> Store {
        guard Files.exists(catalogPath(root)) else {
            throw StoreError("\(root) is not a recfs store (no catalog.sqlite); make one with recfs init")
        }
        let catalog = try Catalog(path: catalogPath(root))
        let accounts = try catalog.pool.read { db in try AccountRow.fetchAll(db) }
        guard accounts.count == 1 else { throw StoreError("\(root) holds \(accounts.count) accounts; this recfs serves one") }
        let store = Store(root: root, catalog: catalog, keys: KeyFile(path: keyPath(root)), account: accounts[0], clock: clock)
        _ = try store.vault.keys.activeKeyId()
        return store
    }

    /// The blob store holding a region's recordings (default storage).
    public func blobStore(region: String) -> any BlobStore {
        LocalBlobStore(root: root + "/blobs/" + region, name: "local:\(region)")
    }

    /// The blob store a catalogued recording lives in.
    func blobStore(for recording: RecordingRow) throws -> any BlobStore {
        guard recording.blobStore == "local" else {
            throw StoreError("recording of call \(recording.callSid) is in blob store \"\(recording.blobStore)\", which this recfs cannot reach")
        }
        return blobStore(region: recording.region)
    }

    /// Appends an audit event inside the caller's transaction.
    static func audit(_ db: Database, at: Int64, actor: String, action: String, subject: String, detail: JSONValue) throws {
        let row = AuditRow(id: nil, at: at, actor: actor, action: action, subject: subject, detail: detail.compact())
        try row.insert(db)
    }

    /// Appends an audit event in a transaction of its own.
    public func audit(actor: String, action: String, subject: String, detail: JSONValue) throws {
        let now = clock()
        try catalog.pool.write { db in try Store.audit(db, at: now, actor: actor, action: action, subject: subject, detail: detail) }
    }

    /// Audit events about `subject` (or all, when nil), oldest first.
    public func auditEvents(subject: String? = nil) throws -> [AuditRow] {
        try catalog.pool.read { db in
            var request = AuditRow.order(Column("id"))
            if let subject { request = request.filter(Column("subject") == subject) }
            return try request.fetchAll(db)
        }
    }

    /// The local user running this process, for audit events.
    public static var currentActor: String {
        if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return "uid:\(getuid())"
    }
}

extension SettingsDocument {
    /// The stored form of settings: every section, secrets in clear (the catalog is the store's own).
    static func storedJSON(_ s: RecordingSettings) -> JSONValue {
        .object([
            ("account", accountJSON(s.account)), ("flows", flowsJSON(s.flows)),
            ("retention", retentionJSON(s.retention)), ("access", accessJSON(s.access)),
            ("storage", storageJSON(s.storage, maskSecrets: false)),
        ])
    }
}
