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
    /// How long it may cache folders: they gain calls as they are ingested and lose them as
    /// they expire, and the mount tells the kernel when (`changedFolders`).
    let folderTimeout: Double = 3600
    /// The account's local dates (its time zone); replaced when the settings change.
    var dates: LocalDate { state.withLock { $0.dates } }
    let state: LockedState
    /// `.settings/`.
    let settings: SettingsTree
    /// Told what the kernel should forget: date folders by name (forgetting everything beneath
    /// them) and nodes by inode (their attributes, pages and cached listings). `wait` asks
    /// that it be done before returning (a settings change shows by the time close() returns).
    public var forget: (@Sendable (_ dayNames: [String], _ inodes: [UInt64], _ wait: Bool) -> Void)?
    let files = HandleTable<OpenFile>()
    /// Recent folder listings, so a large folder read in many requests is listed once.
    let listings = ListingCache()
    /// Sizes of `call.json` documents of recordings ingested before the catalog kept them, by
    /// recording number and expiry, so listing a call folder does not rebuild its document.
    let documentSizes = SizeCache()
    /// Call folders listed lately, by recording number, and the flow folders of dates.
    /// Forgotten whenever recordings come, go or change (followCatalog, settingsMayHaveChanged).
    let callFolders = CallFolderCache()
    let folderCounts: FlowFolderCache
    let problems = ProblemLog()
    /// Runs work beside the requests: listing the flow folder a walk reaches next while it
    /// walks this one. Set by the mount; without it nothing is listed ahead.
    public var background: (@Sendable (@escaping @Sendable () -> Void) -> Void)?
    let ahead = ListingsAhead()
    /// Reads a walk's call folders from the far end on a thread of its own. Set by the mount.
    var walkAhead: WalkAhead?

    public init(store: Store, uid: uid_t = getuid(), gid: gid_t = getgid()) throws {
        self.store = store
        self.uid = uid
        self.gid = gid
        let stamp = try store.settingsStamp()
        self.state = LockedState(dates: try store.localDates(), version: stamp.version,
                                 documentsChangedAt: try store.documentsChangedAt(),
                                 newestNumber: try store.newestRecordingNumber(), checkedAt: store.now)
        self.settings = SettingsTree(store: store, owner: uid, group: gid, log: problems)
        self.folderCounts = FlowFolderCache(clears: callFolders)
        settings.applied = { [unowned self] in self.settingsMayHaveChanged() }
        settings.folderChanged = { [unowned self] folder in self.forget?([], [folder.inode], false) }
    }

    /// Tells the kernel to forget the folders whose listings changed since the last look: new
    /// recordings and expired ones. The mount calls it twice a second.
    public func followCatalog() {
        let now = self.now
        let (after, from) = state.withLock { ($0.newestNumber, $0.checkedAt) }
        guard let changes = try? store.treeChanges(after: after, expiredFrom: from, to: now) else { return }
        state.withLock {
            $0.newestNumber = changes.newestNumber
            $0.checkedAt = now
        }
        guard !changes.places.isEmpty else { return }
        callFolders.clear()
        let dates = self.dates
        var inodes: Set<UInt64> = [Node.root.inode]
        for place in Set(changes.places) {
            guard let day = Store.dayNumber(dates.date(of: Timestamp(milliseconds: place.callStartedAt))) else { continue }
            inodes.insert(Node.day(day).inode)
            inodes.insert(Node.flow(day: day, flow: place.flowNumber).inode)
        }
        listings.clear()
        ahead.clear()
        forget?([], Array(inodes), false)
    }

    /// Follows a settings change (made through `.settings/` or by `recfs settings set`) or a
    /// key rotation (`recfs keys rotate`): new local dates, and the kernel told to forget the
    /// date folders it holds, so recordings whose expiry moved appear or disappear at once and
    /// every call.json is asked for again (its expiry, key id and mtime). Cheap when nothing
    /// changed.
    public func settingsMayHaveChanged() {
        let stamp: (version: Int, at: Int64), changed: DocumentsStamp?
        do {
            stamp = try store.settingsStamp()
            changed = try store.documentsChangedAt()
        } catch { return }
        // A reply read from the catalog just before the change may reach the kernel just after
        // it was told to forget: so the next look forgets once more.
        let (changedNow, again) = state.withLock { s -> (Bool, Bool) in
            let changedNow = s.version != stamp.version || s.documentsChangedAt != changed
            defer { s.forgetAgain = changedNow }
            return (changedNow, s.forgetAgain)
        }
        guard changedNow || again else { return }
        guard let dates = try? store.localDates() else { return }
        let shown = state.withLock { s -> [String] in
            s.version = stamp.version
            s.documentsChangedAt = changed
            s.dates = dates
            defer { s.shownDays.removeAll() }
            return Array(s.shownDays)
        }
        listings.clear()
        ahead.clear()
        callFolders.clear()
        forget?(shown, [Node.root.inode] + settings.inodes, true)
    }

    /// Notes a date folder handed to the kernel.
    func shown(_ day: String) {
        state.withLock { _ = $0.shownDays.insert(day) }
    }

    var now: Int64 { store.now }

    // MARK: - Names and attributes

    /// The child `name` of folder `parent`.
    public func lookup(parent: UInt64, name: String, caller: Caller = .process) throws(FSError) -> FileAttributes {
        guard let node = Node(inode: parent) else { throw FSError.noEntry }
        if case .settings(let folder) = node { return try settings.lookup(folder, name: name, caller: caller) }
        if node == .root && name == ".settings" { return try settings.attributes(.folder, caller: caller) }
        return try guarded("lookup \(name)") { () throws -> FileAttributes in
            let now = self.now
            switch node {
            case .root:
                guard let day = Store.dayNumber(name), Store.dayName(day) == name,
                      let folder = try store.dayFolder(day, dates: dates, now: now) else { throw FSError.noEntry }
                shown(name)
                return try dayAttributes(folder, now: now)
            case .day(let day):
                guard let folder = try flowFolders(day, now: now).first(where: { $0.name == name }) else {
                    throw FSError.noEntry
                }
                return flowAttributes(day: day, folder)
            case .flow(let day, let flowNumber):
                guard let flow = try store.flow(number: flowNumber),
                      let c = try store.callFolder(callSid: name, now: now),
                      c.flow == flow.name, Store.dayNumber(dates.date(of: Timestamp(milliseconds: c.callStartedAt))) == day else {
                    throw FSError.noEntry
                }
                return callAttributes(c, now: now)
            case .call(let number):
                guard let c = try callFolder(number, now: now),
                      let kind = CallFile.allCases.first(where: { fileName($0, of: c) == name }) else { throw FSError.noEntry }
                return try fileAttributes(c, kind, now: now)
            case .file:
                throw FSError.notDirectory
            case .settings:
                throw FSError.noEntry
            }
        }
    }

    /// The attributes of `inode`.
    public func getattr(_ inode: UInt64, caller: Caller = .process) throws(FSError) -> FileAttributes {
        guard let node = Node(inode: inode) else { throw FSError.noEntry }
        if case .settings(let s) = node { return try settings.attributes(s, caller: caller) }
        return try guarded("getattr") { () throws -> FileAttributes in
            let now = self.now
            switch node {
            case .root:
                let days = try store.dayFolders(dates: dates, now: now)
                return FileAttributes(inode: Node.root.inode, isDirectory: true, size: 4096, links: UInt32(3 + days.count),
                                      mtime: days.map(\.newestStart).max() ?? 0, timeout: folderTimeout)
            case .day(let day):
                guard let folder = try store.dayFolder(day, dates: dates, now: now) else { throw FSError.noEntry }
                return try dayAttributes(folder, now: now)
            case .flow(let day, let number):
                guard let flow = try store.flow(number: number),
                      let folder = try flowFolders(day, now: now).first(where: { $0.name == flow.name }) else {
                    throw FSError.noEntry
                }
                return flowAttributes(day: day, folder)
            case .call(let number):
                guard let c = try callFolder(number, now: now) else { throw FSError.noEntry }
                return callAttributes(c, now: now)
            case .file(let number, let kind):
                guard let c = try callFolder(number, now: now) else { throw FSError.noEntry }
                return try fileAttributes(c, kind, now: now)
            case .settings:
                throw FSError.noEntry
            }
        }
    }

    func dayAttributes(_ folder: DayFolder, now: Int64) throws -> FileAttributes {
        let flows = try flowFolders(folder.day, now: now)
        return FileAttributes(inode: Node.day(folder.day).inode, isDirectory: true, size: 4096, links: UInt32(2 + flows.count),
                              mtime: folder.newestStart, timeout: folderTimeout)
    }

    func flowAttributes(day: Int64, _ folder: FlowFolder) -> FileAttributes {
        FileAttributes(inode: Node.flow(day: day, flow: folder.number).inode, isDirectory: true, size: 4096,
                       links: UInt32(2 + folder.callCount), mtime: folder.newestStart, timeout: folderTimeout)
    }

    /// Entries of a recording may be cached until it expires, and no longer.
    func timeout(expires: Int64, now: Int64) -> Double {
        max(0, min(immutableTimeout, Double(expires - now) / 1000))
    }

    func callAttributes(_ c: CallFolder, now: Int64) -> FileAttributes {
        callAttributes(number: c.number, start: c.callStartedAt, expires: c.expiresAt, now: now)
    }

    func callAttributes(number: Int64, start: Int64, expires: Int64, now: Int64) -> FileAttributes {
        FileAttributes(inode: Node.call(number).inode, isDirectory: true, size: 4096, links: 2,
                       mtime: start, timeout: timeout(expires: expires, now: now))
    }

    func fileAttributes(_ c: CallFolder, _ kind: CallFile, now: Int64) throws -> FileAttributes {
        let size: Int64
        switch kind {
        case .recording: size = c.plaintextSize
        case .agent, .customer:
            guard c.channels == 2 else { throw FSError.noEntry }
            size = ChannelView.size(stereoSize: c.plaintextSize)
        case .callJSON: size = try callDocumentSize(c, now: now)
        }
        // call.json shows the expiry and the key id: a retention change or a key rotation
        // changes it, and its mtime follows (export tools then copy it again).
        let mtime = kind == .callJSON ? max(c.callStartedAt, c.documentChangedAt ?? 0) : c.callStartedAt
        return FileAttributes(inode: Node.file(c.number, kind).inode, isDirectory: false, size: size, links: 1,
                              mtime: mtime, timeout: timeout(expires: c.expiresAt, now: now))
    }

    /// The name of a call folder's file, or nil when the recording has no such file.
    func fileName(_ kind: CallFile, of c: CallFolder) -> String? {
        switch kind {
        case .recording: return c.fileName
        case .agent: return c.channels == 2 ? "agent.wav" : nil
        case .customer: return c.channels == 2 ? "customer.wav" : nil
        case .callJSON: return "call.json"
        }
    }

    /// The flow folders of a date: counted once, then kept until a recording in them expires
    /// or the tree changes (followCatalog, settingsMayHaveChanged).
    func flowFolders(_ day: Int64, now: Int64) throws -> [FlowFolder] {
        if let kept = folderCounts.get(day, now: now) { return kept }
        let generation = callFolders.generation
        let flows = try store.flowFolders(day: day, dates: dates, now: now)
        folderCounts.set(day, flows, readAt: generation)
        return flows
    }

    /// A live call folder by recording number: from the folders listed lately, else the catalog.
    func callFolder(_ number: Int64, now: Int64) throws -> CallFolder? {
        if let c = callFolders.get(number) { return c.expiresAt > now ? c : nil }
        let generation = callFolders.generation
        guard let c = try store.callFolder(number: number, now: now) else { return nil }
        callFolders.add([c], readAt: generation)
        return c
    }

    // MARK: - Folders

    /// A folder's entries from `offset` on (0-based). The first request of a pass (offset 0)
    /// lists afresh; later ones page through that listing.
    public func readdir(_ inode: UInt64, offset: Int, caller: Caller = .process) throws(FSError) -> ArraySlice<DirectoryEntry> {
        let entries: [DirectoryEntry]
        if offset > 0, let cached = listings.get(inode) {
            entries = cached
            // The end: the kernel now keeps the listing (and asks again only after forgetting
            // it), so it is not kept here too, next to the one the walk lists next.
            if offset >= cached.count { listings.remove(inode) }
        } else {
            let generation = listings.generation
            if let made = listedAhead(inode) { entries = made } else { entries = try list(inode, caller: caller) }
            // The next request (often the one that finds the end) pages through this listing,
            // unless the tree changed while it was read.
            listings.set(inode, entries, readAt: generation)
            lookAhead(from: inode)
            if let walkAhead, offset == 0 {
                switch Node(inode: inode) {
                case .flow(let day, let flow)?: walkAhead.flowListed(inode, day: day, flow: flow, by: caller.pid)
                case .call?: walkAhead.callListed(inode, by: caller.pid)
                default: break
                }
            }
        }
        return entries[min(offset, entries.count)...]
    }

    /// A flow is listed ahead only while its calls and those of the flow being walked fit in
    /// the call folder cache together (its folders go there as it is read: the walk's current
    /// ones must stay).
    static let listAheadLimit = CallFolderCache.limit

    /// A walk lists a day's flows in order, each after the one before: when a day or a flow is
    /// listed, the flow the walk reaches next is listed on a background thread (an idle CPU,
    /// while the walk goes through this flow's call folders), so reaching it costs no catalog
    /// query. After a day's last flow that is the next date's first.
    private func lookAhead(from inode: UInt64) {
        guard let background, let node = Node(inode: inode) else { return }
        let day: Int64, after: Int64?
        switch node {
        case .day(let d): (day, after) = (d, nil)
        case .flow(let d, let number): (day, after) = (d, number)
        default: return
        }
        // The date's flows as its listing left them (nothing is read from the catalog here).
        guard let flows = folderCounts.get(day, now: now) else { return }
        var next = 0, walking = 0
        if let after {
            guard let i = flows.firstIndex(where: { $0.number == after }) else { return }
            (next, walking) = (i + 1, flows[i].callCount)
        }
        if next < flows.count {
            let flow = flows[next], inode = Node.flow(day: day, flow: flow.number).inode
            guard walking + flow.callCount <= RecordingFileSystem.listAheadLimit, ahead.claim(inode) else { return }
            background { [self] in listAhead(day: day, flow, claimed: inode) }
        } else if after != nil {
            background { [self, walking] in
                // Dates are listed oldest first; the next with recordings, within a week.
                let now = self.now
                for d in day + 1...day + 7 {
                    guard let flows = try? flowFolders(d, now: now) else { return }
                    guard let flow = flows.first else { continue }
                    let inode = Node.flow(day: d, flow: flow.number).inode
                    if walking + flow.callCount <= RecordingFileSystem.listAheadLimit, ahead.claim(inode) {
                        listAhead(day: d, flow, claimed: inode)
                    }
                    return
                }
            }
        }
    }

    /// Lists a flow folder for the walk that will reach it (on the background thread).
    private func listAhead(day: Int64, _ flow: FlowFolder, claimed inode: UInt64) {
        let generation = callFolders.generation
        let listed = try? flowListing(day: day, number: flow.number, now: now, readAt: generation)
        ahead.finish(inode, listed.map { ListedAhead(entries: $0.entries, generation: generation, validUntil: $0.firstExpiry) })
    }

    /// A flow folder's listing made ahead (waiting for it if it is being made), while nothing
    /// has changed since it was read and none of its calls has expired.
    private func listedAhead(_ inode: UInt64) -> [DirectoryEntry]? {
        guard case .flow = Node(inode: inode), let made = ahead.take(inode) else { return nil }
        guard made.generation == callFolders.generation, now < made.validUntil else { return nil }
        return made.entries
    }

    /// The entries of a flow folder, and its first call's expiry. A walk lists each call folder
    /// next: they go to the call folder cache (when `generation` is still its own), so that
    /// needs nothing from the catalog; in batches as they are read, never all at once (a busy
    /// flow's day is 100,000 calls and more).
    private func flowListing(day: Int64, number: Int64, now: Int64, readAt generation: Int) throws
        -> (entries: [DirectoryEntry], firstExpiry: Int64) {
        guard let flow = try store.flow(number: number) else { throw FSError.noEntry }
        var entries: [DirectoryEntry] = [], batch: [CallFolder] = [], firstExpiry = Int64.max
        let batchSize = 1024
        batch.reserveCapacity(batchSize)
        try store.forEachCallFolder(day: day, flow: flow.name, dates: dates, now: now) { c in
            entries.append(DirectoryEntry(name: c.callSid, attributes: callAttributes(c, now: now)))
            firstExpiry = min(firstExpiry, c.expiresAt)
            batch.append(c)
            if batch.count == batchSize {
                callFolders.add(batch, readAt: generation)
                batch.removeAll(keepingCapacity: true)
            }
        }
        callFolders.add(batch, readAt: generation)
        return (entries, firstExpiry)
    }

    /// The entries of a folder, with their attributes (for readdirplus).
    public func list(_ inode: UInt64, caller: Caller = .process) throws(FSError) -> [DirectoryEntry] {
        guard let node = Node(inode: inode) else { throw FSError.noEntry }
        if case .settings(let folder) = node { return try settings.list(folder, caller: caller) }
        let settingsFolder = node == .root ? try settings.attributes(.folder, caller: caller) : nil
        return try guarded("readdir") { () throws -> [DirectoryEntry] in
            let now = self.now
            switch node {
            case .root:
                let days = try store.dayFolders(dates: dates, now: now).map {
                    DirectoryEntry(name: $0.name, attributes: try dayAttributes($0, now: now))
                }
                days.forEach { shown($0.name) }
                return [DirectoryEntry(name: ".settings", attributes: settingsFolder!)] + days
            case .day(let day):
                return try flowFolders(day, now: now).map {
                    DirectoryEntry(name: $0.name, attributes: flowAttributes(day: day, $0))
                }
            case .flow(let day, let number):
                return try flowListing(day: day, number: number, now: now, readAt: callFolders.generation).entries
            case .call(let number):
                guard let c = try callFolder(number, now: now) else { throw FSError.noEntry }
                return try CallFile.allCases.compactMap { kind in
                    try fileName(kind, of: c).map { DirectoryEntry(name: $0, attributes: try fileAttributes(c, kind, now: now)) }
                }
            case .file:
                throw FSError.notDirectory
            case .settings:
                throw FSError.noEntry
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

/// What the filesystem keeps that a settings change replaces.
final class LockedState: @unchecked Sendable {
    struct Values {
        var dates: LocalDate
        /// The settings version `dates` comes from.
        var version: Int
        /// The newest call.json change seen (Store.documentsChangedAt).
        var documentsChangedAt: DocumentsStamp?
        /// The last look found a change (the next one forgets once more).
        var forgetAgain = false
        /// The newest recording number and the instant the catalog was last looked at.
        var newestNumber: Int64
        var checkedAt: Int64
        /// Date folders handed to the kernel since the last settings change.
        var shownDays: Set<String> = []
    }
    private var values: Values
    private let lock = NSLock()

    init(dates: LocalDate, version: Int, documentsChangedAt: DocumentsStamp?, newestNumber: Int64, checkedAt: Int64) {
        values = Values(dates: dates, version: version, documentsChangedAt: documentsChangedAt,
                        newestNumber: newestNumber, checkedAt: checkedAt)
    }

    func withLock<T>(_ body: (inout Values) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&values)
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

/// The last few large folder listings, by inode, up to a bounded number of entries in all.
final class ListingCache: @unchecked Sendable {
    private var entries: [UInt64: (listing: [DirectoryEntry], used: UInt64)] = [:]
    private var clock: UInt64 = 0
    private var held = 0
    private let lock = NSLock()
    static let limit = 64
    static let entryLimit = 60_000

    func get(_ inode: UInt64) -> [DirectoryEntry]? {
        lock.withLock {
            guard let e = entries[inode] else { return nil }
            clock += 1
            entries[inode] = (e.listing, clock)
            return e.listing
        }
    }

    /// Cleared so far; a listing read before a clear is not kept after it.
    private var clears = 0
    var generation: Int { lock.withLock { clears } }

    func set(_ inode: UInt64, _ listing: [DirectoryEntry], readAt generation: Int) {
        lock.withLock {
            guard generation == clears else { return }
            clock += 1
            if let old = entries.removeValue(forKey: inode) { held -= old.listing.count }
            while !entries.isEmpty && (entries.count >= ListingCache.limit || held + listing.count > ListingCache.entryLimit),
                  let oldest = entries.min(by: { $0.value.used < $1.value.used })?.key {
                held -= entries.removeValue(forKey: oldest)!.listing.count
            }
            entries[inode] = (listing, clock)
            held += listing.count
        }
    }

    func remove(_ inode: UInt64) {
        lock.withLock {
            if let old = entries.removeValue(forKey: inode) { held -= old.listing.count }
        }
    }

    func clear() {
        lock.withLock {
            clears += 1
            entries.removeAll()
            held = 0
        }
    }
}

/// A flow folder's listing made on a background thread, and what it is good for.
struct ListedAhead: Sendable {
    let entries: [DirectoryEntry]
    /// The call folder cache's generation when it was read (its folders went there).
    let generation: Int
    /// Its first call's expiry.
    let validUntil: Int64
}

/// Listings being made ahead, and the few made, by folder inode.
final class ListingsAhead: @unchecked Sendable {
    private let condition = NSCondition()
    private var making: Set<UInt64> = []
    private var made: [UInt64: ListedAhead] = [:]
    static let limit = 4

    /// Whether a listing of `inode` should be made (none is being made or waiting to be used).
    func claim(_ inode: UInt64) -> Bool {
        condition.withLock {
            guard !making.contains(inode), made[inode] == nil else { return false }
            making.insert(inode)
            return true
        }
    }

    /// Keeps what a claim made (nil: it failed; the walk then lists the folder itself).
    func finish(_ inode: UInt64, _ listing: ListedAhead?) {
        condition.withLock {
            making.remove(inode)
            if let listing {
                if made.count >= ListingsAhead.limit { made.removeAll() }
                made[inode] = listing
            }
            condition.broadcast()
        }
    }

    /// Drops the listings made (the tree changed: they would not be used).
    func clear() { condition.withLock { made.removeAll() } }

    /// Whether a listing of `inode` is made and waiting to be used.
    func holds(_ inode: UInt64) -> Bool { condition.withLock { made[inode] != nil } }

    /// The listing made for `inode`, once, waiting for the one being made (up to `seconds`:
    /// past that the walk lists the folder itself).
    func take(_ inode: UInt64, seconds: Double = 5) -> ListedAhead? {
        let deadline = Date().addingTimeInterval(seconds)
        return condition.withLock {
            while making.contains(inode) && condition.wait(until: deadline) {}
            return made.removeValue(forKey: inode)
        }
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
    static let limit = 100_000

    func get(_ key: Key) -> Int64? { lock.withLock { sizes[key] } }

    func set(_ key: Key, _ size: Int64) {
        lock.withLock {
            if sizes.count >= SizeCache.limit { sizes.removeAll(keepingCapacity: true) }
            sizes[key] = size
        }
    }
}

/// Call folders by recording number, bounded: two generations of up to `limit` each; when
/// the newer fills, the older is dropped (what a walk is listing now stays).
final class CallFolderCache: @unchecked Sendable {
    private var newer: [Int64: CallFolder] = [:]
    private var older: [Int64: CallFolder] = [:]
    /// Counts clears: folders read from the catalog before a clear are not added after it.
    private var clears = 0
    private let lock = NSLock()
    static let limit = 16_384

    var generation: Int { lock.withLock { clears } }

    func get(_ number: Int64) -> CallFolder? {
        lock.withLock { newer[number] ?? older[number] }
    }

    /// Adds folders read from the catalog when `generation` was current.
    func add(_ folders: [CallFolder], readAt generation: Int) {
        lock.withLock {
            guard generation == clears else { return }
            for c in folders {
                if newer.count >= CallFolderCache.limit {
                    older = newer
                    newer = [:]
                }
                newer[c.number] = c
            }
        }
    }

    func clear() {
        lock.withLock {
            newer = [:]
            older = [:]
            clears += 1
        }
    }
}

/// The flow folders of each date, while no recording in them has expired. Cleared with the
/// call folder cache (same generation).
final class FlowFolderCache: @unchecked Sendable {
    private var days: [Int64: (flows: [FlowFolder], generation: Int, validUntil: Int64)] = [:]
    private let lock = NSLock()
    private let clears: CallFolderCache

    init(clears: CallFolderCache) { self.clears = clears }

    func get(_ day: Int64, now: Int64) -> [FlowFolder]? {
        let generation = clears.generation
        return lock.withLock {
            guard let e = days[day], e.generation == generation, now < e.validUntil else { return nil }
            return e.flows
        }
    }

    func set(_ day: Int64, _ flows: [FlowFolder], readAt generation: Int) {
        let validUntil = flows.map(\.earliestExpiry).min() ?? Int64.max
        lock.withLock {
            if days.count > 1024 { days.removeAll() }
            days[day] = (flows, generation, validUntil)
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
