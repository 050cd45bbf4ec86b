// RecordingFileSystem: the mount's filesystem core — lookup, getattr, readdir, open, read,
// xattrs — answered from the store. It knows nothing of FUSE: the adapter only translates.

import Foundation
import Glibc
import RecordingCore
import RecordingStore

/// The date/flow/call tree of one store, read-only.
///
/// Thread safety: every handler may run on any thread at once. Shared state is the store
/// (thread-safe), the handle tables (locked) and each open file's reader (locked per file).
public final class RecordingFileSystem: @unchecked Sendable {
    public let store: Store
    let uid: uid_t
    let gid: gid_t
    /// How long the kernel may cache what never changes (a recording until its expiry).
    let immutableTimeout: Double = 3600
    /// How long it may cache folders that gain calls as they are ingested.
    let folderTimeout: Double = 10
    let dates: LocalDate
    let files = HandleTable<OpenFile>()
    let folders = HandleTable<[DirectoryEntry]>()
    /// Sizes of `call.json` documents by recording number and expiry (a retention change
    /// makes a new document), so listing a call folder does not rebuild its document.
    let documentSizes = SizeCache()
    let problems = ProblemLog()

    public init(store: Store, uid: uid_t = getuid(), gid: gid_t = getgid()) throws {
        self.store = store
        self.uid = uid
        self.gid = gid
        self.dates = try store.localDates()
    }

    var now: Int64 { store.now }

    // MARK: - Names and attributes

    /// The child `name` of folder `parent`.
    public func lookup(parent: UInt64, name: String) throws(FSError) -> FileAttributes {
        guard let node = Node(inode: parent) else { throw FSError.noEntry }
        return try guarded("lookup \(name)") { () throws -> FileAttributes in
            let now = self.now
            switch node {
            case .root:
                guard let day = Store.dayNumber(name), Store.dayName(day) == name,
                      let folder = try store.dayFolder(day, dates: dates, now: now) else { throw FSError.noEntry }
                return try dayAttributes(folder, now: now)
            case .day(let day):
                guard let folder = try store.flowFolders(day: day, dates: dates, now: now).first(where: { $0.name == name }) else {
                    throw FSError.noEntry
                }
                return flowAttributes(day: day, folder)
            case .flow(let day, let flowNumber):
                guard let flow = try store.flow(number: flowNumber),
                      let r = try store.liveRecording(callSid: name, now: now),
                      r.flow == flow.name, Store.dayNumber(dates.date(of: Timestamp(milliseconds: r.callStartedAt))) == day else {
                    throw FSError.noEntry
                }
                return callAttributes(r, now: now)
            case .call(let number):
                guard let r = try store.recording(number: number, now: now),
                      let kind = CallFile.allCases.first(where: { fileName($0, of: r) == name }) else { throw FSError.noEntry }
                return try fileAttributes(r, kind, now: now)
            case .file:
                throw FSError.notDirectory
            }
        }
    }

    /// The attributes of `inode`.
    public func getattr(_ inode: UInt64) throws(FSError) -> FileAttributes {
        guard let node = Node(inode: inode) else { throw FSError.noEntry }
        return try guarded("getattr") { () throws -> FileAttributes in
            let now = self.now
            switch node {
            case .root:
                let days = try store.dayFolders(dates: dates, now: now)
                return FileAttributes(inode: Node.root.inode, isDirectory: true, size: 4096, links: UInt32(2 + days.count),
                                      mtime: days.map(\.newestStart).max() ?? 0, timeout: folderTimeout)
            case .day(let day):
                guard let folder = try store.dayFolder(day, dates: dates, now: now) else { throw FSError.noEntry }
                return try dayAttributes(folder, now: now)
            case .flow(let day, let number):
                guard let flow = try store.flow(number: number),
                      let folder = try store.flowFolders(day: day, dates: dates, now: now).first(where: { $0.name == flow.name }) else {
                    throw FSError.noEntry
                }
                return flowAttributes(day: day, folder)
            case .call(let number):
                guard let r = try store.recording(number: number, now: now) else { throw FSError.noEntry }
                return callAttributes(r, now: now)
            case .file(let number, let kind):
                guard let r = try store.recording(number: number, now: now) else { throw FSError.noEntry }
                return try fileAttributes(r, kind, now: now)
            }
        }
    }

    func dayAttributes(_ folder: DayFolder, now: Int64) throws -> FileAttributes {
        let flows = try store.flowFolders(day: folder.day, dates: dates, now: now)
        return FileAttributes(inode: Node.day(folder.day).inode, isDirectory: true, size: 4096, links: UInt32(2 + flows.count),
                              mtime: folder.newestStart, timeout: folderTimeout)
    }

    func flowAttributes(day: Int64, _ folder: FlowFolder) -> FileAttributes {
        FileAttributes(inode: Node.flow(day: day, flow: folder.number).inode, isDirectory: true, size: 4096,
                       links: UInt32(2 + folder.callCount), mtime: folder.newestStart, timeout: folderTimeout)
    }

    /// Entries of a recording may be cached until it expires, and no longer.
    func timeout(_ r: RecordingRow, now: Int64) -> Double {
        max(0, min(immutableTimeout, Double(r.expiresAt - now) / 1000))
    }

    func callAttributes(_ r: RecordingRow, now: Int64) -> FileAttributes {
        FileAttributes(inode: Node.call(r.number ?? 0).inode, isDirectory: true, size: 4096, links: 2,
                       mtime: r.callStartedAt, timeout: timeout(r, now: now))
    }

    func fileAttributes(_ r: RecordingRow, _ kind: CallFile, now: Int64) throws -> FileAttributes {
        let size: Int64
        switch kind {
        case .recording: size = r.plaintextSize
        case .agent, .customer:
            guard r.channels == 2 else { throw FSError.noEntry }
            size = ChannelView.size(stereoSize: r.plaintextSize)
        case .callJSON: size = try callDocumentSize(r)
        }
        return FileAttributes(inode: Node.file(r.number ?? 0, kind).inode, isDirectory: false, size: size, links: 1,
                              mtime: r.callStartedAt, timeout: timeout(r, now: now))
    }

    /// The name of a call folder's file, or nil when the recording has no such file.
    func fileName(_ kind: CallFile, of r: RecordingRow) -> String? {
        switch kind {
        case .recording: return r.fileName
        case .agent: return r.channels == 2 ? "agent.wav" : nil
        case .customer: return r.channels == 2 ? "customer.wav" : nil
        case .callJSON: return "call.json"
        }
    }

    // MARK: - Folders

    /// Lists a folder once; `readdir` pages through the listing by offset.
    public func opendir(_ inode: UInt64) throws(FSError) -> UInt64 {
        folders.insert(try list(inode))
    }

    /// Whether the kernel may keep a folder's listing across opens: a call folder's files
    /// never change while it exists (date and flow folders gain calls as they are ingested).
    public func listingNeverChanges(_ inode: UInt64) -> Bool {
        if case .call = Node(inode: inode) { return true }
        return false
    }

    /// Entries from `offset` on (offsets are 1-based positions, 0 = start).
    public func readdir(_ handle: UInt64, offset: Int) throws(FSError) -> ArraySlice<DirectoryEntry> {
        guard let entries = folders.get(handle) else { throw .badHandle }
        return entries[min(offset, entries.count)...]
    }

    public func releasedir(_ handle: UInt64) { folders.remove(handle) }

    /// The entries of a folder, with their attributes (for readdirplus).
    public func list(_ inode: UInt64) throws(FSError) -> [DirectoryEntry] {
        guard let node = Node(inode: inode) else { throw FSError.noEntry }
        return try guarded("readdir") { () throws -> [DirectoryEntry] in
            let now = self.now
            switch node {
            case .root:
                return try store.dayFolders(dates: dates, now: now).map {
                    DirectoryEntry(name: $0.name, attributes: try dayAttributes($0, now: now))
                }
            case .day(let day):
                return try store.flowFolders(day: day, dates: dates, now: now).map {
                    DirectoryEntry(name: $0.name, attributes: flowAttributes(day: day, $0))
                }
            case .flow(let day, let number):
                guard let flow = try store.flow(number: number) else { throw FSError.noEntry }
                return try store.recordings(day: day, flow: flow.name, dates: dates, now: now).map {
                    DirectoryEntry(name: $0.callSid, attributes: callAttributes($0, now: now))
                }
            case .call(let number):
                guard let r = try store.recording(number: number, now: now) else { throw FSError.noEntry }
                return try CallFile.allCases.compactMap { kind in
                    try fileName(kind, of: r).map { DirectoryEntry(name: $0, attributes: try fileAttributes(r, kind, now: now)) }
                }
            case .file:
                throw FSError.notDirectory
            }
        }
    }

    // MARK: - Statistics

    /// Totals for statfs: blocks of 4 KiB in use and files shown.
    public func totals() -> (blocks: UInt64, files: UInt64) {
        guard let t = try? store.liveTotals(now: now) else { return (0, 0) }
        return (UInt64((t.bytes + 4095) / 4096), UInt64(t.recordings))
    }

    // MARK: - Errors

    /// Runs a handler body: FSErrors pass through; integrity failures and any other error
    /// become EIO, logged once per distinct message (never a crash).
    func guarded<T>(_ what: String, _ body: () throws -> T) throws(FSError) -> T {
        do {
            return try body()
        } catch let error as FSError {
            throw error
        } catch {
            problems.report("\(what): \(error)")
            throw .io
        }
    }
}

/// Writes each distinct problem to stderr once.
final class ProblemLog: @unchecked Sendable {
    private var seen = Set<String>()
    private let lock = NSLock()

    func report(_ message: String) {
        let first = lock.withLock { seen.insert(message).inserted }
        if first { FileHandle.standardError.write(Data("recfs mount: \(message)\n".utf8)) }
    }
}

/// A bounded map of document sizes.
final class SizeCache: @unchecked Sendable {
    struct Key: Hashable {
        let number: Int64
        let expiresAt: Int64
    }
    private var sizes: [Key: Int64] = [:]
    private let lock = NSLock()
    static let limit = 200_000

    func get(_ key: Key) -> Int64? { lock.withLock { sizes[key] } }

    func set(_ key: Key, _ size: Int64) {
        lock.withLock {
            if sizes.count >= SizeCache.limit { sizes.removeAll(keepingCapacity: true) }
            sizes[key] = size
        }
    }
}

/// Open files or folder listings by handle number.
final class HandleTable<Value>: @unchecked Sendable {
    private var values: [UInt64: Value] = [:]
    private var next: UInt64 = 1
    private let lock = NSLock()

    func insert(_ value: Value) -> UInt64 {
        lock.withLock {
            let h = next
            next += 1
            values[h] = value
            return h
        }
    }

    func get(_ handle: UInt64) -> Value? { lock.withLock { values[handle] } }
    func remove(_ handle: UInt64) { lock.withLock { _ = values.removeValue(forKey: handle) } }
    var count: Int { lock.withLock { values.count } }
}
