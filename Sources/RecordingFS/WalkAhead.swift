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
// It starts only for a walk: after a process lists a flow folder, it lists three of its call
// folders (an `ls` of a flow starts nothing). It stops when every call folder of the flow has
// been read, when the walker lists another flow, and when the walker has listed nothing for a
// tenth of a second (it ended or paused; it starts again at the walker's next call folder).
// It runs on a CPU the walker is not on, and only where there is one.

import CFuse3
import Foundation
import Glibc
import RecordingStore

final class WalkAhead: @unchecked Sendable {
    /// A flow folder a process listed afresh, and the first of its call folders it listed since.
    private struct Listed {
        let inode: UInt64
        let day: Int64
        let flow: Int64
        var calls: [UInt64] = []
    }

    /// A flow folder being walked.
    private struct Walk {
        let generation: Int
        let flow: Listed
        let walker: pid_t
        /// The call folder whose listing started it.
        let reached: UInt64
    }

    /// Where the tree is mounted, and its device ("MAJOR:MINOR"): this daemon's own mount.
    private let mountpoint: String
    private let device: String
    /// A flow's name, for its path (a catalog read, on this thread).
    private let flowName: @Sendable (Int64) -> String?
    private let condition = NSCondition()
    /// By process (a FUSE request names its sender's thread): a few at a time.
    private var listed: [pid_t: Listed] = [:]
    private var walk: Walk?
    private var generation = 0
    /// Call folders of `readFlow` listed (by anyone) while it was walked: nobody lists them again.
    private var read: Set<UInt64> = []
    private var readFlow: UInt64 = 0
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

    /// Call folders a process lists after their flow before the flow is read from the far end.
    static let callsToStart = 3
    /// A walker that listed nothing for this long has ended or paused. While this thread reads
    /// it holds folders of the mount open, and an unmount meanwhile finds the mount busy.
    static let walkerGone: Int64 = 100_000_000
    /// Processes whose last flow listing is kept.
    static let listers = 16

    /// nil where there is no second CPU to read on.
    init?(mountpoint: String, device: String, flowName: @escaping @Sendable (Int64) -> String?) {
        guard ProcessInfo.processInfo.activeProcessorCount > 1 else { return nil }
        self.mountpoint = mountpoint
        self.device = device
        self.flowName = flowName
        let t = Thread { [unowned self] in self.work() }
        t.name = "recfs-walk"
        t.stackSize = 1 << 20
        t.start()
    }

    /// A flow folder was listed afresh (its first listing request) for `pid`.
    func flowListed(_ inode: UInt64, day: Int64, flow: Int64, by pid: pid_t) {
        condition.withLock {
            guard pid != tid else { return }
            if listed[pid] == nil, listed.count >= WalkAhead.listers { listed.removeAll() }
            listed[pid] = Listed(inode: inode, day: day, flow: flow)
            // The kernel asked again: what it kept of the flow's call folders may be gone too.
            if readFlow == inode { (read, readFlow) = ([], 0) }
            // The walker moved on: the flow it leaves is no longer read.
            if walk?.walker == pid { walk = nil }
        }
    }

    /// A call folder was listed afresh for `pid`.
    func callListed(_ inode: UInt64, by pid: pid_t) {
        condition.withLock {
            guard pid != tid else { return }
            if let w = walk {
                read.insert(inode)
                if w.walker == pid { walkerSeen = monotonicNanoseconds() }
                return
            }
            guard !stopping, var l = listed[pid] else { return }
            if l.calls.count < WalkAhead.callsToStart {
                l.calls.append(inode)
                listed[pid] = l
                guard l.calls.count == WalkAhead.callsToStart else { return }
            }
            // A walk, or the same walk again after a pause.
            if readFlow != l.inode { (read, readFlow) = ([], l.inode) }
            read.formUnion(l.calls)
            read.insert(inode)
            generation += 1
            walks += 1
            walkerSeen = monotonicNanoseconds()
            walk = Walk(generation: generation, flow: l, walker: pid, reached: inode)
            condition.broadcast()
        }
    }

    /// What was read ahead of walks since the mount, for its log (nil if nothing was).
    var summary: String? {
        condition.withLock {
            foldersRead == 0 ? nil : "read \(foldersRead) call folders ahead of \(walks) walk\(walks == 1 ? "" : "s")"
        }
    }

    /// Stops reading and waits (up to 5 s) for the thread to end: before the mount is
    /// unmounted, as a folder it holds open would keep the unmount from happening.
    func stop() {
        let deadline = Date().addingTimeInterval(5)
        condition.lock()
        stopping = true
        walk = nil
        condition.broadcast()
        while running && condition.wait(until: deadline) {}
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
            let walked = readAhead(w)
            condition.withLock {
                if walk?.generation == w.generation { walk = nil }
                // Not a walk of this flow after all: no more starts until the walker lists a flow.
                if !walked, listed[w.walker]?.inode == w.flow.inode { listed[w.walker] = nil }
            }
        }
    }

    /// Whether the walk `w` is still on (with `condition` locked).
    private func current(_ w: Walk) -> Bool {
        walk?.generation == w.generation && !stopping && monotonicNanoseconds() - walkerSeen < WalkAhead.walkerGone
    }

    /// Reads the walk's call folders from the last back, skipping those already read. False
    /// if the walker is not walking that flow of this mount.
    private func readAhead(_ w: Walk) -> Bool {
        guard let flow = flowName(w.flow.flow) else { return false }
        _ = recfs_run_on_cpus_but(&allowed, WalkAhead.cpu(of: w.walker))
        let path = mountpoint + (mountpoint.hasSuffix("/") ? "" : "/") + Store.dayName(w.flow.day) + "/" + flow
        let folder = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { return false }
        defer { close(folder) }
        // This daemon's mount (not another mounted there since), and the flow folder itself
        // (the kernel numbers inodes as the daemon does).
        var st = stat()
        guard fstat(folder, &st) == 0, "\(recfs_major(UInt64(st.st_dev))):\(recfs_minor(UInt64(st.st_dev)))" == device,
              UInt64(st.st_ino) == w.flow.inode else { return false }
        let size = 64 << 10
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        // The flow's call folders, from the kernel's copy of the listing the walker read.
        var names: [UInt8] = [], folders: [(name: Int, inode: UInt64)] = []
        while condition.withLock({ current(w) }) {
            let n = recfs_getdents(folder, buffer, UInt32(size))
            guard n > 0 else { break }
            var at = 0
            while at < n {
                let record = buffer + at
                let length = Int(record.load(fromByteOffset: 16, as: UInt16.self))
                let name = (record + 19).assumingMemoryBound(to: UInt8.self)
                if record.load(fromByteOffset: 18, as: UInt8.self) == UInt8(DT_DIR), name[0] != UInt8(ascii: ".") {
                    folders.append((names.count, record.load(as: UInt64.self)))
                    names.append(contentsOf: UnsafeBufferPointer(start: name, count: strlen(UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self))))
                    names.append(0)
                }
                at += length
            }
        }
        // The call folders that started the walk must be the flow's: a walker listing those of
        // a flow whose listing the kernel kept (so it was not listed for it) is elsewhere.
        guard (w.flow.calls + [w.reached]).allSatisfy({ started in folders.contains { $0.inode == started } }) else { return false }
        for (name, inode) in folders.reversed() {
            let next = condition.withLock { () -> Bool? in current(w) ? read.insert(inode).inserted : nil }
            guard let next else { break }
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
        return true
    }

    /// The CPU thread `tid` last ran on (/proc/TID/stat's 39th field), or -1.
    static func cpu(of tid: pid_t) -> Int32 {
        guard let stat = try? String(contentsOfFile: "/proc/\(tid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return -1 }
        // After the command's closing parenthesis come the fields from the 3rd on.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        return fields.count > 36 ? Int32(fields[36]) ?? -1 : -1
    }
}
