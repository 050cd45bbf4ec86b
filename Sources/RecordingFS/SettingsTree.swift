// SettingsTree: `.settings/` of the mount. Settings files read as their current documents;
// writes are buffered per open file and applied at close (flush), fsync or rename into place,
// through the store's one validation and apply path. Scratch files (editors' swap files, sed's
// temporaries) live in memory until renamed or removed.

import Foundation
import Glibc
import RecordingCore
import RecordingStore

/// Who made a request, as the kernel says.
public struct Caller: Sendable, Equatable {
    public let uid: uid_t
    public let gid: gid_t
    public let pid: pid_t

    public init(uid: uid_t, gid: gid_t, pid: pid_t) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
    }

    /// This process (for callers that are not the kernel: tests, tools).
    public static var process: Caller { Caller(uid: getuid(), gid: getgid(), pid: getpid()) }

    /// The name the audit log records: the user's name, or `uid:N`.
    var actor: String {
        if let pw = getpwuid(uid), let name = pw.pointee.pw_name { return String(cString: name) }
        return "uid:\(uid)"
    }
}

/// Attribute changes asked of setattr; nil members are left alone.
public struct AttributeChange: Sendable {
    public var size: Int64?
    public var mode: mode_t?
    public var uid: uid_t?
    public var gid: gid_t?
    /// Whether access or modification times are to be set (settings files keep theirs).
    public var times: Bool

    public init(size: Int64? = nil, mode: mode_t? = nil, uid: uid_t? = nil, gid: gid_t? = nil, times: Bool = false) {
        self.size = size
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.times = times
    }
}

/// The `.settings/` folder: its files, open handles, scratch files and each user's last error.
///
/// Thread safety: one lock guards all of it; settings operations are rare and small. Applying a
/// change (a catalog transaction) happens under it, so edits apply one at a time, whole.
final class SettingsTree: @unchecked Sendable {
    /// Largest settings or scratch file (EFBIG past it).
    static let maxFileSize = 1 << 20
    /// Most scratch files and bytes held at once (ENOSPC past them).
    static let maxScratchFiles = 256
    static let maxScratchBytes = 32 << 20
    /// A closed scratch file untouched this long is dropped when room is needed.
    static let scratchLifetimeMs: Int64 = 15 * 60 * 1000

    let store: Store
    let owner: uid_t
    let ownerGroup: gid_t
    /// Called after a change was applied (outside the lock), so the tree can follow it.
    var applied: (@Sendable () -> Void)?
    /// Called when a folder's listing changed without the kernel's knowing (a flow file that
    /// was being made is gone because its content was refused).
    var folderChanged: (@Sendable (SettingsNode) -> Void)?

    private let lock = NSLock()
    private var flowNumbers: [String: Int64] = [:]
    private var flowNames: [Int64: String] = [:]
    private var scratches: [Int64: Scratch] = [:]
    private var nextNumber: Int64 = 1
    /// Flow files created and still open, not yet applied (name → open handles).
    private var creating: [String: Int] = [:]
    private var lastErrors: [uid_t: String] = [:]
    private var handles: [UInt64: Handle] = [:]
    private var nextHandle: UInt64 = 1
    private var cache: (version: Int, at: Int64, settings: RecordingSettings)?
    private let log: ProblemLog

    /// Handles of this tree carry this bit, so the adapter can tell them from recordings'.
    static let handleBit: UInt64 = 1 << 63
    /// rename(2) flags (linux/fs.h).
    static let renameNoReplace: UInt32 = 1
    static let renameExchange: UInt32 = 2

    struct Scratch {
        var folder: SettingsNode
        var name: String
        var bytes: [UInt8]
        var mode: mode_t
        var mtime: Int64
    }

    final class Handle {
        enum Target {
            case file(SettingsFile)
            case scratch(Int64)
            case lastError
        }
        let target: Target
        let caller: Caller
        let writable: Bool
        let append: Bool
        /// A settings file's pending bytes (or what it read as at open); unused for scratch files.
        var bytes: [UInt8]
        var dirty: Bool
        /// Why the last judged document was refused (until the handle is written again).
        var refusal: FSError?
        /// The process that opened it: its closes judge the document.
        let process: pid_t
        /// A flow file made by this handle and not yet applied.
        var creates: String?

        init(_ target: Target, caller: Caller, writable: Bool, append: Bool, bytes: [UInt8], dirty: Bool) {
            self.target = target
            self.caller = caller
            self.writable = writable
            self.append = append
            self.bytes = bytes
            self.dirty = dirty
            self.process = writable ? SettingsTree.process(of: caller.pid) : caller.pid
        }
    }

    init(store: Store, owner: uid_t, group: gid_t, log: ProblemLog) {
        self.store = store
        self.owner = owner
        self.ownerGroup = group
        self.log = log
    }

    // MARK: - Settings as they are

    /// The current settings (re-read when the catalog holds a newer version).
    private func current() throws -> (settings: RecordingSettings, at: Int64) {
        let stamp = try store.settingsStamp()
        if let c = cache, c.version == stamp.version { return (c.settings, c.at) }
        let (settings, version) = try store.currentSettings()
        cache = (version, stamp.at, settings)
        return (settings, stamp.at)
    }

    private func text(_ file: SettingsFile) throws -> [UInt8] {
        file.text(try current().settings, accountSid: store.account.sid, plan: store.plan)
    }

    private func flowNumber(_ name: String) -> Int64 {
        if let n = flowNumbers[name] { return n }
        let n = nextNumber
        nextNumber += 1
        flowNumbers[name] = n
        flowNames[n] = name
        return n
    }

    private func flowExists(_ name: String) throws -> Bool {
        try current().settings.flows[name] != nil || creating[name, default: 0] > 0
    }

    // MARK: - Names and attributes

    func attributes(_ node: SettingsNode, caller: Caller) throws(FSError) -> FileAttributes {
        try locked { () throws -> FileAttributes in try attributesLocked(node, caller: caller) }
    }

    private func attributesLocked(_ node: SettingsNode, caller: Caller) throws -> FileAttributes {
        let at = try current().at
        func make(size: Int, directory: Bool = false, links: UInt32 = 1, mode: mode_t, mtime: Int64? = nil) -> FileAttributes {
            FileAttributes(inode: node.inode, isDirectory: directory, size: Int64(size), links: links,
                           mtime: mtime ?? at, timeout: 0, permissions: mode)
        }
        switch node {
        case .folder:
            return make(size: 4096, directory: true, links: 3, mode: 0o755)
        case .flowsFolder:
            return make(size: 4096, directory: true, links: 2, mode: 0o755)
        case .fixed(let i):
            guard SettingsFile.fixed.indices.contains(i) else { throw FSError.noEntry }
            return make(size: try text(SettingsFile.fixed[i]).count, mode: 0o644)
        case .lastError:
            return make(size: Array((lastErrors[caller.uid] ?? "").utf8).count, mode: 0o444)
        case .flowFile(let n):
            guard let name = flowNames[n], try flowExists(name) else { throw FSError.noEntry }
            let size = try current().settings.flows[name] == nil ? 0 : try text(.flow(name)).count
            return make(size: size, mode: 0o644)
        case .scratch(let n):
            guard let s = scratches[n] else { throw FSError.noEntry }
            return make(size: s.bytes.count, mode: s.mode & 0o7777, mtime: s.mtime)
        }
    }

    func lookup(_ folder: SettingsNode, name: String, caller: Caller) throws(FSError) -> FileAttributes {
        try locked { () throws -> FileAttributes in
            guard let node = try child(folder, name) else { throw FSError.noEntry }
            return try attributesLocked(node, caller: caller)
        }
    }

    /// The node named `name` in a settings folder, if there is one.
    private func child(_ folder: SettingsNode, _ name: String) throws -> SettingsNode? {
        switch folder {
        case .folder:
            if name == "flows" { return .flowsFolder }
            if name == ".last-error" { return .lastError }
            if let i = SettingsFile.fixed.firstIndex(where: { $0.fileName == name }) { return .fixed(i) }
        case .flowsFolder:
            if case let .flow(flow)? = SettingsFile(flowFileName: name) {
                return try flowExists(flow) ? .flowFile(flowNumber(flow)) : nil
            }
        default:
            throw FSError.notDirectory
        }
        return scratches.first { $0.value.folder == folder && $0.value.name == name }.map { .scratch($0.key) }
    }

    /// What a node stands for, as a settings file (nil for scratch files and folders).
    private func settingsFile(_ node: SettingsNode) -> SettingsFile? {
        switch node {
        case .fixed(let i): return SettingsFile.fixed.indices.contains(i) ? SettingsFile.fixed[i] : nil
        case .flowFile(let n): return flowNames[n].map { .flow($0) }
        default: return nil
        }
    }

    func list(_ folder: SettingsNode, caller: Caller) throws(FSError) -> [DirectoryEntry] {
        try locked { () throws -> [DirectoryEntry] in
            var nodes: [(String, SettingsNode)] = []
            switch folder {
            case .folder:
                nodes = SettingsFile.fixed.indices.map { (SettingsFile.fixed[$0].fileName, .fixed($0)) }
                nodes += [("flows", .flowsFolder), (".last-error", .lastError)]
            case .flowsFolder:
                let names = Set(try current().settings.flows.keys).union(creating.filter { $0.value > 0 }.keys)
                nodes = names.sorted().map { ("\($0).json", .flowFile(flowNumber($0))) }
            default:
                throw FSError.notDirectory
            }
            nodes += scratches.filter { $0.value.folder == folder }.sorted { $0.key < $1.key }.map { ($0.value.name, .scratch($0.key)) }
            return try nodes.map { DirectoryEntry(name: $0.0, attributes: try attributesLocked($0.1, caller: caller)) }
        }
    }

    // MARK: - Opening, reading, writing

    func open(_ node: SettingsNode, flags: Int32, caller: Caller) throws(FSError) -> UInt64 {
        try locked { () throws -> UInt64 in try openLocked(node, flags: flags, caller: caller) }
    }

    private func openLocked(_ node: SettingsNode, flags: Int32, caller: Caller) throws -> UInt64 {
            let writes = flags & O_ACCMODE != O_RDONLY
            let truncates = writes && flags & O_TRUNC != 0
            if writes { try mayWrite(caller, what: "open for writing") }
            let append = flags & O_APPEND != 0
            switch node {
            case .folder, .flowsFolder:
                throw FSError.isDirectory
            case .lastError:
                if writes { throw FSError(EACCES) }
                return add(Handle(.lastError, caller: caller, writable: false, append: false,
                                  bytes: Array((lastErrors[caller.uid] ?? "").utf8), dirty: false))
            case .scratch(let n):
                guard scratches[n] != nil else { throw FSError.noEntry }
                if truncates { scratches[n]!.bytes = []; scratches[n]!.mtime = store.now }
                return add(Handle(.scratch(n), caller: caller, writable: writes, append: append, bytes: [], dirty: false))
            case .fixed, .flowFile:
                guard let file = settingsFile(node) else { throw FSError.noEntry }
                if case let .flow(name) = file, !(try flowExists(name)) { throw FSError.noEntry }
                let existing = try exists(file) ? try text(file) : []
                return add(Handle(.file(file), caller: caller, writable: writes, append: append,
                                  bytes: truncates ? [] : existing, dirty: truncates))
            }
    }

    /// Creates (or, for a settings name, opens for writing) `name` in a settings folder.
    func create(_ folder: SettingsNode, name: String, mode: mode_t, flags: Int32,
                caller: Caller) throws(FSError) -> (handle: UInt64, attributes: FileAttributes) {
        try locked { () throws -> (handle: UInt64, attributes: FileAttributes) in
            try mayWrite(caller, what: "create \(name)")
            guard folder == .folder || folder == .flowsFolder else { throw FSError.notDirectory }
            let append = flags & O_APPEND != 0
            if let node = try child(folder, name) {
                if flags & O_EXCL != 0 { throw FSError(EEXIST) }
                let h = try openLocked(node, flags: flags, caller: caller)
                return (h, try attributesLocked(node, caller: caller))
            }
            if folder == .flowsFolder, case let .flow(flow)? = SettingsFile(flowFileName: name) {
                let handle = Handle(.file(.flow(flow)), caller: caller, writable: true, append: append, bytes: [], dirty: true)
                handle.creates = flow
                creating[flow, default: 0] += 1
                let h = add(handle)
                return (h, try attributesLocked(.flowFile(flowNumber(flow)), caller: caller))
            }
            if let problem = SettingsFile.nameProblem(name, inFlows: folder == .flowsFolder) {
                refuse(caller, "create \(name)", problem)
                throw FSError(EINVAL)
            }
            let n = try newScratch(folder, name, mode: mode)
            let h = add(Handle(.scratch(n), caller: caller, writable: true, append: append, bytes: [], dirty: false))
            return (h, try attributesLocked(.scratch(n), caller: caller))
        }
    }

    private func newScratch(_ folder: SettingsNode, _ name: String, mode: mode_t) throws -> Int64 {
        // Scratch files a tool left behind (closed, untouched for a while) make room.
        let open = Set(handles.values.compactMap { h -> Int64? in if case let .scratch(n) = h.target { return n } else { return nil } })
        let stale = store.now - SettingsTree.scratchLifetimeMs
        scratches = scratches.filter { open.contains($0.key) || $0.value.mtime > stale }
        guard scratches.count < SettingsTree.maxScratchFiles else {
            log.report("settings: more than \(SettingsTree.maxScratchFiles) scratch files in .settings; remove some")
            throw FSError(ENOSPC)
        }
        let n = nextNumber
        nextNumber += 1
        scratches[n] = Scratch(folder: folder, name: name, bytes: [], mode: mode & 0o7777, mtime: store.now)
        return n
    }

    private func exists(_ file: SettingsFile) throws -> Bool {
        if case let .flow(name) = file { return try current().settings.flows[name] != nil }
        return true
    }

    func read(_ handle: UInt64, offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(FSError) -> Int {
        try locked { () throws -> Int in
            guard let h = handles[handle] else { throw FSError.badHandle }
            let bytes: [UInt8]
            switch h.target {
            case .scratch(let n): bytes = scratches[n]?.bytes ?? []
            case .file, .lastError: bytes = h.bytes
            }
            guard offset >= 0, offset < Int64(bytes.count) else { return 0 }
            let n = min(buffer.count, bytes.count - Int(offset))
            bytes[Int(offset)..<Int(offset) + n].withUnsafeBytes { buffer.copyMemory(from: $0) }
            return n
        }
    }

    func write(_ handle: UInt64, offset: Int64, bytes data: UnsafeRawBufferPointer) throws(FSError) -> Int {
        try locked { () throws -> Int in
            guard let h = handles[handle], h.writable else { throw FSError.badHandle }
            func put(_ bytes: inout [UInt8]) throws {
                let start = h.append ? bytes.count : Int(offset)
                guard offset >= 0, start + data.count <= SettingsTree.maxFileSize else { throw FSError(EFBIG) }
                if bytes.count < start + data.count { bytes += [UInt8](repeating: 0, count: start + data.count - bytes.count) }
                bytes.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[start..<start + data.count]).copyMemory(from: data) }
            }
            switch h.target {
            case .scratch(let n):
                guard scratches[n] != nil else { throw FSError.noEntry }
                let total = scratches.values.reduce(0) { $0 + $1.bytes.count }
                guard total + data.count <= SettingsTree.maxScratchBytes else { throw FSError(ENOSPC) }
                try put(&scratches[n]!.bytes)
                scratches[n]!.mtime = store.now
            case .file:
                try put(&h.bytes)
                h.dirty = true
                h.refusal = nil
            case .lastError:
                throw FSError.badHandle
            }
            return data.count
        }
    }

    /// close(2) and fsync(2): a settings file written through this handle is applied now, or
    /// refused with EINVAL (nothing applied, the reason in `.last-error`).
    ///
    /// The kernel sends a flush for every close of any copy of the descriptor, including the
    /// copy a child process inherits and drops at exec or exit. Only the opening process's
    /// closes (and any fsync) judge the document, so a child never takes the verdict (or judges
    /// a half-written file); a refusal stays with the handle until it is written again, so each
    /// later close says so too. What no close of the opener judged is applied at release.
    func flush(_ handle: UInt64, caller: Caller, sync: Bool) throws(FSError) {
        var changed = false
        defer { if changed { applied?() } }
        try locked { () throws in
            guard let h = handles[handle] else { throw FSError.badHandle }
            guard h.writable, case .file = h.target else { return }
            guard sync || SettingsTree.process(of: caller.pid) == h.process else { return }
            changed = try commit(h)
        }
    }

    /// Judges a handle's pending document; throws its refusal (again, if nothing was written since).
    private func commit(_ h: Handle) throws -> Bool {
        guard case let .file(file) = h.target else { return false }
        guard h.dirty else {
            if let refusal = h.refusal { throw refusal }
            return false
        }
        h.dirty = false
        let changed: Bool
        do {
            changed = try apply(file, h.bytes, caller: h.caller) { try store.applySettingsFile(file, h.bytes, actor: h.caller.actor) }
        } catch let error as FSError {
            h.refusal = error
            throw error
        }
        if case let .flow(name) = file, h.creates == name {
            h.creates = nil
            creating[name, default: 1] -= 1
        }
        h.bytes = try text(file)
        return changed
    }

    func release(_ handle: UInt64) {
        var changed = false
        defer { if changed { applied?() } }
        let abandoned = lock.withLock { () -> Bool in
            guard let h = handles.removeValue(forKey: handle) else { return false }
            if h.writable && h.dirty { changed = (try? commit(h)) ?? false }
            guard let name = h.creates else { return false }
            creating[name, default: 1] -= 1
            creating = creating.filter { $0.value > 0 }
            return creating[name] == nil && (try? current().settings.flows[name]) == nil
        }
        if abandoned { folderChanged?(.flowsFolder) }
    }

    /// The process (thread group) a thread belongs to: the kernel names the thread that made a
    /// request, and any thread of the opener may close.
    static func process(of thread: pid_t) -> pid_t {
        guard let status = try? String(contentsOfFile: "/proc/\(thread)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Tgid:") }),
              let tgid = pid_t(line.dropFirst(5).trimmingCharacters(in: .whitespaces)) else { return thread }
        return tgid
    }

    // MARK: - Changing names and attributes

    func setattr(_ node: SettingsNode, _ change: AttributeChange, handle: UInt64?, caller: Caller) throws(FSError) -> FileAttributes {
        var changed = false
        defer { if changed { applied?() } }
        return try locked { () throws -> FileAttributes in
            try mayWrite(caller, what: "change attributes")
            let shown = try attributesLocked(node, caller: caller)
            if let uid = change.uid, uid != owner { throw FSError(EPERM) }
            if let gid = change.gid, gid != ownerGroup { throw FSError(EPERM) }
            switch node {
            case .scratch(let n):
                if let mode = change.mode { scratches[n]!.mode = mode & 0o7777 }
                if let size = change.size {
                    guard size >= 0, size <= Int64(SettingsTree.maxFileSize) else { throw FSError(EFBIG) }
                    resize(&scratches[n]!.bytes, to: Int(size))
                }
                if change.times || change.size != nil { scratches[n]!.mtime = store.now }
            case .fixed, .flowFile:
                if let mode = change.mode, mode & 0o7777 != shown.permissions { throw FSError(EPERM) }
                guard let size = change.size, let file = settingsFile(node) else { break }
                guard size >= 0, size <= Int64(SettingsTree.maxFileSize) else { throw FSError(EFBIG) }
                if let handle, let h = handles[handle], h.writable, case .file = h.target {
                    resize(&h.bytes, to: Int(size))
                    h.dirty = true
                    h.refusal = nil
                    // The kernel takes the size answered as the file's: this writer's.
                    let a = try attributesLocked(node, caller: caller)
                    return FileAttributes(inode: a.inode, isDirectory: false, size: Int64(h.bytes.count), links: a.links,
                                          mtime: a.mtime, timeout: 0, permissions: a.permissions)
                } else {
                    // truncate(2) by name: the truncated document is applied at once, or refused.
                    var bytes = try text(file)
                    resize(&bytes, to: Int(size))
                    changed = try apply(file, bytes, caller: caller) { try store.applySettingsFile(file, bytes, actor: caller.actor) }
                }
            case .folder, .flowsFolder, .lastError:
                if change.mode != nil || change.size != nil { throw FSError(EPERM) }
            }
            return try attributesLocked(node, caller: caller)
        }
    }

    private func resize(_ bytes: inout [UInt8], to size: Int) {
        if size < bytes.count { bytes.removeLast(bytes.count - size) } else { bytes += [UInt8](repeating: 0, count: size - bytes.count) }
    }

    /// rename(2) within `.settings/`. A scratch file renamed onto a settings name is applied
    /// (or refused, staying as it was); a settings file renamed to a scratch name is copied
    /// there (editors keep their backup that way; the settings stay); a flow file renamed to
    /// another flow's name moves the override.
    func rename(_ folder: SettingsNode, _ name: String, to newFolder: SettingsNode, _ newName: String,
                flags: UInt32, caller: Caller) throws(FSError) {
        var changed = false
        defer { if changed { applied?() } }
        try locked { () throws in
            try mayWrite(caller, what: "rename \(name)")
            guard [SettingsNode.folder, .flowsFolder].contains(folder), [SettingsNode.folder, .flowsFolder].contains(newFolder) else {
                throw FSError.readOnly
            }
            if flags & SettingsTree.renameExchange != 0 { throw FSError(EINVAL) }
            guard let source = try child(folder, name) else { throw FSError.noEntry }
            let target = try child(newFolder, newName)
            if target != nil, flags & SettingsTree.renameNoReplace != 0 { throw FSError(EEXIST) }
            if target == source { return }
            let targetFile: SettingsFile? = newFolder == .folder ? SettingsFile(name: newName) : SettingsFile(flowFileName: newName)
            if newName == ".last-error" || newName == "flows" || source == .lastError || source.isDirectory { throw FSError(EPERM) }
            if targetFile == nil, let problem = SettingsFile.nameProblem(newName, inFlows: newFolder == .flowsFolder) {
                refuse(caller, "rename \(name) to \(newName)", problem)
                throw FSError(EINVAL)
            }
            switch (source, targetFile) {
            case (.scratch(let n), let file?):
                let bytes = scratches[n]!.bytes
                changed = try apply(file, bytes, caller: caller) { try store.applySettingsFile(file, bytes, actor: caller.actor) }
                scratches[n] = nil
            case (.scratch(let n), nil):
                if case let .scratch(old)? = target { scratches[old] = nil }
                scratches[n]!.folder = newFolder
                scratches[n]!.name = newName
            case (_, nil):
                // A settings file to a scratch name: a copy; the settings stay.
                guard let file = settingsFile(source) else { throw FSError.noEntry }
                let bytes = try exists(file) ? try text(file) : []
                if case let .scratch(old)? = target { scratches[old] = nil }
                let n = try newScratch(newFolder, newName, mode: 0o644)
                scratches[n]!.bytes = bytes
            case (.flowFile(let n), .flow(let to)?):
                guard let from = flowNames[n] else { throw FSError.noEntry }
                changed = try apply(.flow(to), [], caller: caller) {
                    try store.applySettings(actor: caller.actor, action: "settings.set", subject: "flows/\(to).json") { current in
                        guard let override = current.flows[from] else { throw StoreError("flow \(from) has no override") }
                        var s = current
                        s.flows[from] = nil
                        s.flows[to] = override
                        return s
                    }
                }
            default:
                refuse(caller, "rename \(name) to \(newName)", "a settings file cannot become another one; write the other file instead")
                throw FSError(EINVAL)
            }
        }
    }

    /// unlink(2): removes a scratch file, or a flow's override. The fixed files stay.
    func unlink(_ folder: SettingsNode, _ name: String, caller: Caller) throws(FSError) {
        var changed = false
        defer { if changed { applied?() } }
        try locked { () throws in
            try mayWrite(caller, what: "remove \(name)")
            guard let node = try child(folder, name) else { throw FSError.noEntry }
            switch node {
            case .scratch(let n):
                scratches[n] = nil
            case .flowFile(let n):
                guard let flow = flowNames[n], try current().settings.flows[flow] != nil else { throw FSError(EBUSY) }
                changed = try apply(.flow(flow), [], caller: caller) { try store.removeFlowOverride(flow, actor: caller.actor) }
            case .fixed:
                refuse(caller, "remove \(name)", "\(name) cannot be removed; write the settings you want into it")
                throw FSError(EPERM)
            case .folder, .flowsFolder:
                throw FSError.isDirectory
            case .lastError:
                throw FSError(EPERM)
            }
        }
    }

    // MARK: - Applying

    /// Applies one change, recording the outcome for the caller. Returns whether the settings
    /// changed; throws EINVAL for a refused document, EIO for anything else.
    private func apply(_ file: SettingsFile, _ bytes: [UInt8], caller: Caller,
                       _ body: () throws -> SettingsChange) throws -> Bool {
        do {
            let change = try body()
            lastErrors[caller.uid] = nil
            if let version = change.version {
                var line = "settings: \(file.path) by \(caller.actor) (pid \(caller.pid)): version \(version) applied"
                if change.expiriesChanged > 0 { line += "; expiry moved for \(change.expiriesChanged) recordings" }
                FileHandle.standardError.write(Data("recfs mount: \(line)\n".utf8))
            }
            cache = nil
            return change.version != nil
        } catch let error as InvalidDocument {
            refuse(caller, "write \(file.path)", error.violations.map { "  \($0)" }.joined(separator: "\n"), multiline: true)
            throw FSError(EINVAL)
        } catch {
            refuse(caller, "write \(file.path)", "\(error)")
            throw FSError.io
        }
    }

    /// Records why an edit was refused: in the caller's `.last-error` and in the log.
    private func refuse(_ caller: Caller, _ what: String, _ reason: String, multiline: Bool = false) {
        let when = Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)).description
        let text = multiline
            ? "\(when) \(what): refused; nothing changed\n\(reason)\n"
            : "\(when) \(what): refused; nothing changed: \(reason)\n"
        lastErrors[caller.uid] = text
        FileHandle.standardError.write(Data("recfs mount: settings: \(caller.actor) (pid \(caller.pid)): \(text)".utf8))
    }

    /// Until roles arrive, only root and the mount's owner change settings.
    private func mayWrite(_ caller: Caller, what: String) throws {
        guard caller.uid == 0 || caller.uid == owner else {
            refuse(caller, what, "only root and the mount's owner (uid \(owner)) may change settings")
            throw FSError(EACCES)
        }
    }

    private func add(_ handle: Handle) -> UInt64 {
        let h = nextHandle | SettingsTree.handleBit
        nextHandle += 1
        handles[h] = handle
        return h
    }

    var openHandles: Int { lock.withLock { handles.count } }

    /// The folders' and settings files' inode numbers the kernel may have seen.
    var inodes: [UInt64] {
        lock.withLock {
            [SettingsNode.folder.inode, SettingsNode.flowsFolder.inode] + SettingsFile.fixed.indices.map { SettingsNode.fixed($0).inode }
                + flowNames.keys.map { SettingsNode.flowFile($0).inode }
        }
    }

    /// Runs `body` under the lock; FSErrors pass through, anything else is EIO (logged).
    private func locked<T>(_ body: () throws -> T) throws(FSError) -> T {
        lock.lock()
        defer { lock.unlock() }
        do {
            return try body()
        } catch let error as FSError {
            throw error
        } catch {
            log.report("settings: \(error)")
            throw .io
        }
    }
}
