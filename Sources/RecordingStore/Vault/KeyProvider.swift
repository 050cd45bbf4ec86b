// KeyProvider: where account keys come from. The embedded default is a key file in the store.

import Foundation
import Glibc

/// A source of account keys (key-encryption keys). The embedded default keeps them in the
/// store's key file; a KMS or HSM would implement the same protocol.
public protocol KeyProvider: Sendable {
    /// The key new data keys are wrapped with.
    func activeKeyId() throws -> String
    /// The 32-byte key with `id`; throws if unknown.
    func key(id: String) throws -> [UInt8]
    /// Makes a new key the active one; older keys stay readable until retired.
    func addActiveKey() throws -> String
    /// Forgets the keys `ids` (nothing may still be wrapped with them); never the active one.
    func retire(_ ids: Set<String>) throws
    /// Ids of every key held, active first.
    func keyIds() throws -> [String]
}

/// Why a key could not be had.
public struct KeyError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// Account keys kept in a JSON file (mode 0600) in the store:
/// `{"format": 1, "active": ID, "keys": [{"id": ID, "created": ISO8601, "key": BASE64}]}`.
///
/// Thread safety: every call reads or rewrites the file under a process-local lock; rewrites
/// are atomic (temp file, fsync, rename), so a crash keeps the old or the new key set. Other
/// processes rewrite it too (a `recfs keys rotate` beside a mount or an ingest), so the active
/// key and every rewrite read the file afresh; `key(id:)` (each open of a recording) serves
/// from the set read last while the file is unchanged and holds the id, and reads it again
/// otherwise. Rewrites by two processes at once are kept apart by the store (`Store.rotateKeys`).
public final class KeyFile: KeyProvider, @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private var cache: (contents: Contents, version: Version)?

    /// Which version of the file was read: a rewrite (a new inode by rename) or a chmod changes it.
    private struct Version: Equatable {
        var device: UInt64, inode: UInt64, size: Int64
        var modified: timespec, changed: timespec

        init(_ st: stat) {
            device = UInt64(st.st_dev); inode = UInt64(st.st_ino); size = Int64(st.st_size)
            modified = st.st_mtim; changed = st.st_ctim
        }

        static func == (a: Version, b: Version) -> Bool {
            a.device == b.device && a.inode == b.inode && a.size == b.size
                && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
                && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec
        }
    }

    struct Entry: Codable {
        var id: String
        var created: String
        var key: String
    }

    struct Contents: Codable {
        var format: Int
        var active: String
        var keys: [Entry]
    }

    public init(path: String) {
        self.path = path
    }

    /// Creates the key file with one fresh key; refuses to overwrite an existing one.
    public static func create(path: String) throws -> KeyFile {
        if Files.exists(path) { throw KeyError(reason: "key file \(path) already exists") }
        let file = KeyFile(path: path)
        let entry = newEntry()
        try file.save(Contents(format: 1, active: entry.id, keys: [entry]))
        return file
    }

    static func newEntry() -> Entry {
        let id = "k" + Hex.encode(SecureRandom.bytes(7))
        let created = ISO8601DateFormatter().string(from: Date())
        return Entry(id: id, created: created, key: Data(SecureRandom.bytes(32)).base64EncodedString())
    }

    /// The key set: the one read last while the file is that version, else read now. `fresh`
    /// reads it whatever the version says (a rewrite can look the same: every one-key file has
    /// the same size, an inode can be reused, and times may not move within a clock tick).
    private func load(fresh: Bool = true) throws -> Contents {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw KeyError(reason: "account key file \(path) is missing (\(String(cString: strerror(errno)))): without it no recording can be decrypted")
        }
        let version = Version(st)
        if !fresh, let c = cache, c.version == version { return c.contents }
        if st.st_mode & 0o077 != 0 {
            throw KeyError(reason: "account key file \(path) is readable by others (mode \(String(st.st_mode & 0o777, radix: 8))); run chmod 600 on it")
        }
        let bytes = try Files.read(path, limit: 1 << 20)
        let contents: Contents
        do {
            contents = try JSONDecoder().decode(Contents.self, from: Data(bytes))
        } catch {
            throw KeyError(reason: "account key file \(path) is not readable JSON: \(error)")
        }
        guard contents.format == 1 else { throw KeyError(reason: "account key file \(path) has format \(contents.format); this recfs reads format 1") }
        guard contents.keys.contains(where: { $0.id == contents.active }) else {
            throw KeyError(reason: "account key file \(path) names active key \(contents.active) but does not hold it")
        }
        cache = (contents, version)
        return contents
    }

    private func save(_ contents: Contents) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(contents)
        try Files.writeAtomically(Array(data) + [0x0A], to: path, mode: 0o600)
        cache = nil
    }

    public func activeKeyId() throws -> String {
        lock.lock(); defer { lock.unlock() }
        return try load().active
    }

    public func key(id: String) throws -> [UInt8] {
        lock.lock(); defer { lock.unlock() }
        // A key never changes under its id: the set read last serves while it holds `id`.
        var entry = try load(fresh: false).keys.first { $0.id == id }
        if entry == nil { entry = try load().keys.first { $0.id == id } }
        guard let entry else {
            throw KeyError(reason: "account key \(id) is not in \(path)")
        }
        guard let data = Data(base64Encoded: entry.key), data.count == 32 else {
            throw KeyError(reason: "account key \(id) in \(path) is not 32 bytes of base64")
        }
        return Array(data)
    }

    public func addActiveKey() throws -> String {
        lock.lock(); defer { lock.unlock() }
        var contents = try load()
        let entry = KeyFile.newEntry()
        contents.keys.insert(entry, at: 0)
        contents.active = entry.id
        try save(contents)
        return entry.id
    }

    public func retire(_ ids: Set<String>) throws {
        lock.lock(); defer { lock.unlock() }
        var contents = try load()
        guard !ids.contains(contents.active) else {
            throw KeyError(reason: "account key \(contents.active) is the active key in \(path); it cannot be retired")
        }
        contents.keys.removeAll { ids.contains($0.id) }
        try save(contents)
    }

    public func keyIds() throws -> [String] {
        lock.lock(); defer { lock.unlock() }
        let c = try load()
        return [c.active] + c.keys.map(\.id).filter { $0 != c.active }
    }
}
