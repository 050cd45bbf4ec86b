// WalkAhead: a walk through a flow's call folders, shared with a thread of the daemon's own.
//
// A first walk of the tree (`find`, an export's scan) reads every call folder: two listing
// requests each, one after the other, and most of their cost is the kernel's, in the walker's
// context and on its CPU (BENCHMARKS.md). FUSE gives a daemon no way to hand the kernel a
// listing it was not asked for, but the daemon may ask for one itself: a thread of its own
// reads call folders through the mount, so their listings, names and attributes are in the
// kernel's caches when the walker gets there, and the walker's reads of them ask nothing.
// The walk then runs on two CPUs: the walker goes through the flow in its order, this thread
// from the listing's end back, each skipping the folders the other has read, until every one
// is. (Lustre's statahead does the same for stat() walks, inside the kernel.)
//
// It starts only for a walk: after a flow folder is listed, its caller lists three of its call
// folders (an `ls` of a flow starts nothing). It stops when every call folder of the flow has
// been read, when the walker lists another flow, and when the walker has listed nothing for a
// quarter of a second (it ended or paused; it starts again at the walker's next call folder).
// It runs on a CPU the walker is not on, and only where there is one.

import CFuse3
import Foundation
import Glibc
import RecordingStore

final class WalkAhead: @unchecked Sendable {
    /// A flow folder listed afresh for someone other than this thread, for whom, and how many of
    /// its call folders they listed since.
    private struct Listed {
        let inode: UInt64
        let day: Int64
        let flow: Int64
        let by: pid_t
        var calls = 0
    }

    /// A flow folder being walked.
    private struct Walk {
        let generation: Int
        let flow: Listed
        /// The call folder whose listing started it (the flow's, unless the walker is elsewhere).
        let reached: UInt64
        /// The walker's CPU then.
        let cpu: Int32
    }

    /// Where the tree is mounted: this daemon's own mount.
    private let mountpoint: String
    /// A flow's name, for its path (a catalog read, on this thread).
    private let flowName: @Sendable (Int64) -> String?
    private let condition = NSCondition()
    private var listed: Listed?
    private var walk: Walk?
    private var generation = 0
    /// Call folders of the last flow listed that were listed since (by anyone): nobody lists
    /// them again.
    private var read: Set<UInt64> = []
    /// When the walker last listed a call folder itself.
    private var walkerSeen: Int64 = 0
    private var stopping = false
    private var running = true
    /// This thread's id, as FUSE requests name their sender.
    private var tid: pid_t = -1
    /// Walks read ahead of, and the call folders read for them.
    private var walks = 0, foldersRead = 0
    /// The CPUs this thread may run on, as it started.
    private var allowed = recfs_cpu_set()

    /// Call folders a walker lists after its flow before the flow is read from the far end.
    static let callsToStart = 3
    /// A walker that listed nothing for this long has ended or paused.
    static let walkerGone: Int64 = 250_000_000

    /// nil where there is no second CPU to read on.
    init?(mountpoint: String, flowName: @escaping @Sendable (Int64) -> String?) {
        guard ProcessInfo.processInfo.activeProcessorCount > 1 else { return nil }
        self.mountpoint = mountpoint
        self.flowName = flowName
        let t = Thread { [unowned self] in self.work() }
        t.name = "recfs-walk"
        t.stackSize = 1 << 20
        t.start()
    }

    /// A flow folder was listed afresh (a request at offset 0) for `pid`.
    func flowListed(_ inode: UInt64, day: Int64, flow: Int64, by pid: pid_t) {
        condition.withLock {
            guard pid != tid else { return }
            listed = Listed(inode: inode, day: day, flow: flow, by: pid)
            read = []
            // The walker moved on: the flow it leaves is no longer read.
            walk = nil
        }
    }

    /// A call folder was listed afresh for `pid`.
    func callListed(_ inode: UInt64, by pid: pid_t) {
        condition.withLock {
            guard var l = listed, pid != tid, walk != nil || l.by == pid else { return }
            read.insert(inode)
            walkerSeen = monotonicNanoseconds()
            guard walk == nil, !stopping, l.by == pid else { return }
            l.calls += 1
            listed = l
            guard l.calls >= WalkAhead.callsToStart else { return }
            generation += 1
            walks += 1
            walk = Walk(generation: generation, flow: l, reached: inode, cpu: recfs_current_cpu())
            condition.broadcast()
        }
    }

    /// What was read ahead of walks since the mount, for its log (nil if nothing was).
    var summary: String? {
        condition.withLock {
            foldersRead == 0 ? nil : "read \(foldersRead) call folders ahead of \(walks) walk\(walks == 1 ? "" : "s")"
        }
    }

    /// Stops reading and waits for the thread to end (before the mount is unmounted: a folder
    /// it holds open would keep the unmount from happening).
    func stop() {
        condition.lock()
        stopping = true
        walk = nil
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    private func work() {
        condition.withLock { tid = recfs_thread_id() }
        _ = recfs_get_cpus(&allowed)
        while true {
            condition.lock()
            while walk == nil && !stopping { condition.wait() }
            guard !stopping, let w = walk else {
                running = false
                condition.broadcast()
                condition.unlock()
                return
            }
            condition.unlock()
            readAhead(w)
            condition.withLock { if walk?.generation == w.generation { walk = nil } }
        }
    }

    /// Whether the walk `w` is still on.
    private func current(_ w: Walk) -> Bool {
        walk?.generation == w.generation && !stopping && monotonicNanoseconds() - walkerSeen < WalkAhead.walkerGone
    }

    /// Reads the walk's call folders from the last back, skipping those already read.
    private func readAhead(_ w: Walk) {
        guard let flow = flowName(w.flow.flow) else { return }
        _ = recfs_run_on_cpus_but(&allowed, w.cpu)
        let path = mountpoint + (mountpoint.hasSuffix("/") ? "" : "/") + Store.dayName(w.flow.day) + "/" + flow
        let folder = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { return }
        defer { close(folder) }
        // The mount's own flow folder (the kernel numbers inodes as the daemon does), not
        // whatever else may be at that path.
        var st = stat()
        guard fstat(folder, &st) == 0, UInt64(st.st_ino) == w.flow.inode else { return }
        let size = 64 << 10
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        // The flow's call folders, from the kernel's copy of the listing the walker read.
        var names: [UInt8] = [], folders: [(name: Int, inode: UInt64)] = []
        while true {
            let n = recfs_getdents(folder, buffer, UInt32(size))
            guard n > 0 else { break }
            var at = 0
            while at < n {
                let record = buffer + at
                let inode = record.load(as: UInt64.self)
                let length = Int(record.load(fromByteOffset: 16, as: UInt16.self))
                let isFolder = record.load(fromByteOffset: 18, as: UInt8.self) == UInt8(DT_DIR)
                let name = (record + 19).assumingMemoryBound(to: UInt8.self)
                let nameLength = strlen(UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self))
                if isFolder, name[0] != UInt8(ascii: ".") {
                    folders.append((names.count, inode))
                    names.append(contentsOf: UnsafeBufferPointer(start: name, count: nameLength))
                    names.append(0)
                }
                at += length
            }
        }
        // A walker listing call folders of another flow (whose listing the kernel had) is not
        // walking this one.
        guard folders.contains(where: { $0.inode == w.reached }) else { return }
        for (name, inode) in folders.reversed() {
            let next = condition.withLock { () -> Bool? in
                guard current(w) else { return nil }
                return read.insert(inode).inserted
            }
            guard let next else { return }
            guard next else { continue }
            let d = names.withUnsafeBufferPointer { all in
                openat(folder, UnsafeRawPointer(all.baseAddress! + name).assumingMemoryBound(to: CChar.self),
                       O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
            }
            guard d >= 0 else { continue }
            var n = 0
            repeat { n = recfs_getdents(d, buffer, 4096) } while n > 0
            close(d)
            if n == 0 { condition.withLock { foldersRead += 1 } }
        }
    }
}
