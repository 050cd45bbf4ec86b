// FuseMount: the libfuse3 low-level adapter. It translates kernel requests into calls on
// RecordingFileSystem and answers into replies; it holds no policy.

import CFuse3
import Foundation
import Glibc
import Synchronization

/// Set by SIGINT, SIGTERM and SIGHUP (and stop()); the daemon then unmounts and ends.
private let stopRequested = Atomic<Int32>(0)

/// One mounted store: two FUSE sessions served by one daemon.
///
/// The recording tree is mounted read-only (the kernel itself answers EROFS to every change,
/// and, since a read-only superblock has no access times to keep, a folder's cached
/// attributes survive its listing being read: a second walk of the tree asks nothing).
/// `.settings/` is a second, writable session mounted over the tree's `.settings` folder.
///
/// Thread safety: each session has one loop thread; requests reach the filesystem through
/// the session's userdata (a FuseSession) and share nothing else.
public final class FuseMount: @unchecked Sendable {
    public let filesystem: RecordingFileSystem
    public let mountpoint: String
    /// Answers reads of recordings and settings edits beside the loop threads.
    let workers = WorkerPool(threads: 8, name: "recfs-worker")
    /// Lists ahead of a walk (RecordingFileSystem.background).
    let ahead = WorkerPool(threads: 1, name: "recfs-ahead")
    private let tree: FuseSession
    private var settings: FuseSession?
    private let notifier: Notifier

    /// Mounts the tree, then `.settings/` over it, and starts serving both. `mountpoint` must
    /// be absolute and normalised (it is matched against the mount table). Options are `-o`
    /// options (`allow_other`, …), given to both sessions (`-o ro` makes the settings
    /// read-only too).
    ///
    /// With `ring`, the tree is served through FUSE over io_uring when the kernel offers it
    /// (FuseRing); the settings mount, edited now and then, stays on /dev/fuse.
    public init(filesystem: RecordingFileSystem, mountpoint: String, options: [String], ring: Bool = true) throws {
        self.filesystem = filesystem
        self.mountpoint = mountpoint
        FuseMount.catchStopSignals()
        filesystem.background = { [ahead] job in ahead.submit(job) }
        tree = try FuseSession(filesystem: filesystem, workers: workers, root: Node.root.inode, mountpoint: mountpoint,
                               options: ["fsname=recfs", "subtype=recfs"] + options + ["ro"],
                               useRing: ring && kernelOffersFuseRing())
        notifier = Notifier()
        raiseReadahead()
        // Before the tree is served: requests read it.
        if let device = FuseMount.device(of: mountpoint) {
            filesystem.walkAhead = WalkAhead(mountpoint: mountpoint, device: device) { [weak filesystem] number in
                (try? filesystem?.store.flow(number: number))??.name
            }
        }
        tree.serve(spinMicroseconds: FuseSession.spinMicroseconds)
        // The settings mount needs the tree served: the kernel looks `.settings` up through it.
        do {
            let s = try FuseSession(filesystem: filesystem, workers: workers, root: Node.settings(.folder).inode,
                                    mountpoint: mountpoint + (mountpoint.hasSuffix("/") ? "" : "/") + ".settings",
                                    options: ["fsname=recfs-settings", "subtype=recfs"] + options)
            s.serve()
            settings = s
        } catch {
            filesystem.walkAhead?.stop()
            tree.stop()
            workers.stop()
            ahead.stop()
            tree.destroy()
            throw error
        }
        notifier.sessions = [tree, settings!]
        filesystem.forget = { [notifier] days, inodes, wait in notifier.forget(days: days, inodes: inodes, wait: wait) }
    }

    /// What was read ahead of walks, once the mount has ended (nil if nothing was).
    public var walkAheadSummary: String? { filesystem.walkAhead?.summary }

    /// Whether the tree is served through FUSE over io_uring (the kernel offered it).
    public var servesThroughRing: Bool { tree.ring?.isActive == true }

    /// Serves until the tree is unmounted or the daemon is told to stop (SIGINT, SIGTERM,
    /// SIGHUP, or stop()); then unmounts `.settings/` and the tree, in that order.
    ///
    /// A signal may land on any of the process's threads, so its handler only raises a flag;
    /// this thread sees it and unmounts, which ends the loops' blocked reads. (libfuse's own
    /// handlers mark the session as exited, and an exited session drops the requests it has
    /// read: the unmount of `.settings/`, which needs the tree served, would hang.)
    public func run() {
        var ticks = 0
        while !tree.isFinished, stopRequested.load(ordering: .relaxed) == 0 {
            ticks += 1
            // Calls ingested or expired, and settings changed by `recfs settings set` (another
            // process), reach the kernel's caches here.
            if ticks % 10 == 0 {
                filesystem.settingsMayHaveChanged()
                filesystem.followCatalog()
            }
            tree.waitForEnd(seconds: 0.05)
        }
        close()
    }

    /// Asks the daemon to stop (it then unmounts).
    public func stop() { stopRequested.store(1, ordering: .relaxed) }

    private static func catchStopSignals() {
        _ = stopRequested.load(ordering: .relaxed)  // initialised here, never first in the handler
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in stopRequested.store(1, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaction(signal, &action, nil) }
        // Replies written to a connection the kernel has dropped must not end the daemon.
        signal(SIGPIPE, SIG_IGN)
    }

    /// Unmounts both sessions and frees them.
    public func close() {
        filesystem.walkAhead?.stop()
        filesystem.forget = nil
        notifier.stop()
        settings?.stop()
        tree.stop()
        workers.stop()
        ahead.stop()
        filesystem.background = nil
        settings?.destroy()
        tree.destroy()
    }

    /// The kernel caps a FUSE mount's readahead at 128 KiB unless its backing device's
    /// read_ahead_kb says more; raise it to 4 MiB, so sequential reads arrive as 1 MiB requests
    /// (the request size init allows) with up to four in flight: the reader threads decrypt
    /// the next window while the reader copies the last (cold read of 512 MiB, medians of 15
    /// mounts in one run here: 2.11 GB/s with a 4 MiB window, 1.99 GB/s with 1 MiB). Init is
    /// answered after this, and the kernel then keeps the smaller of this window and init's
    /// max_readahead, so init asks for 4 MiB too.
    private func raiseReadahead() {
        guard let device = FuseMount.device(of: mountpoint) else { return }
        try? "4096".write(toFile: "/sys/class/bdi/\(device)/read_ahead_kb", atomically: false, encoding: .utf8)
    }

    /// The device ("MAJOR:MINOR") of this daemon's tree mount, from /proc/self/mountinfo
    /// (never the mount itself: nothing may serve it yet, so even a stat would hang).
    static func device(of mountpoint: String) -> String? {
        guard let info = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        var found: String?
        for line in info.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4, line.contains("fuse.recfs"), unescapeMountPath(fields[4]) == mountpoint else { continue }
            found = String(fields[2])  // the last is the newest, mounted over any before
        }
        return found
    }
}

/// A path as /proc/self/mountinfo gives it: space, tab, newline and backslash escaped as octal.
public func unescapeMountPath(_ s: some StringProtocol) -> String {
    s.replacingOccurrences(of: "\\040", with: " ").replacingOccurrences(of: "\\011", with: "\t")
        .replacingOccurrences(of: "\\012", with: "\n").replacingOccurrences(of: "\\134", with: "\\")
}

/// One FUSE session: a kernel connection, its mount point, and the thread that reads its
/// requests. The kernel calls a session's root inode 1; `root` is the node that stands for.
final class FuseSession: @unchecked Sendable {
    /// How long a thread that answered a request keeps looking for the next before it sleeps
    /// (see `serve`). A walk's next request comes once the walker has taken in the last reply:
    /// within 50 µs on a fast host, up to about 150 µs on a slow or busy one, where spinning
    /// 50 µs missed most of them (`find` over 30,000 calls, first after mounting: 4.4 s never
    /// spinning, 3.2 s spinning 50 µs, 2.4 s 200 µs, 2.3 s 1 ms). Spinning yields the CPU to
    /// anything runnable, so a reader loses nothing to it (sequential reads the same at 50 and
    /// 200 µs).
    static let spinMicroseconds: Int64 = 200
    let filesystem: RecordingFileSystem
    let workers: WorkerPool
    let root: UInt64
    let mountpoint: String
    /// Set once, by init.
    private(set) var pointer: OpaquePointer!
    private var userdata: Unmanaged<FuseSession>?
    private let loop = LoopState()
    private var unmounted = false
    private var destroyed = false

    /// FUSE over io_uring, when the kernel offers it and the session asked for it.
    private(set) var ring: FuseRing?

    init(filesystem: RecordingFileSystem, workers: WorkerPool, root: UInt64, mountpoint: String, options: [String],
         useRing: Bool = false) throws {
        self.filesystem = filesystem
        self.workers = workers
        self.root = root
        self.mountpoint = mountpoint
        var ops = makeOperations()
        let argv: [String] = ["recfs", "-o", options.joined(separator: ",")]
        let cArgs = argv.map { strdup($0) }
        defer { cArgs.forEach { free($0) } }
        var pointers = cArgs.map { UnsafeMutablePointer<CChar>($0) }
        let retained = Unmanaged.passRetained(self)
        let se: OpaquePointer? = pointers.withUnsafeMutableBufferPointer { buffer in
            var args = fuse_args(argc: Int32(buffer.count), argv: buffer.baseAddress, allocated: 0)
            defer { fuse_opt_free_args(&args) }
            return fuse_session_new(&args, &ops, MemoryLayout<fuse_lowlevel_ops>.size, retained.toOpaque())
        }
        guard let se else {
            retained.release()
            throw MountError("could not start a FUSE session (bad -o options?)")
        }
        guard fuse_session_mount(se, mountpoint) == 0 else {
            fuse_session_destroy(se)
            retained.release()
            throw MountError("could not mount on \(mountpoint) (is /dev/fuse usable and the folder empty?)")
        }
        pointer = se
        userdata = retained
        if useRing {
            let ring = FuseRing(session: se, fuseFD: fuse_session_fd(se)) { [filesystem] handle, offset, buffer throws(FSError) in
                try filesystem.read(handle, offset: offset, into: buffer)
            }
            var io = fuse_custom_io()
            io.read = { fd, buffer, length, _ in Glibc.read(fd, buffer, length) }
            io.writev = { fd, iov, count, userdata in
                Unmanaged<FuseSession>.fromOpaque(userdata!).takeUnretainedValue().ring!.writev(fd, iov!, count)
            }
            if fuse_session_custom_io(se, &io, fuse_session_fd(se)) == 0 { self.ring = ring }
        }
    }

    /// The node a kernel inode number stands for.
    @inline(__always) func node(_ ino: fuse_ino_t) -> UInt64 { ino == 1 ? root : UInt64(ino) }

    /// The kernel's number for a node of this session, or nil if the session never shows it.
    func kernelInode(_ node: UInt64) -> fuse_ino_t? {
        if node == root { return 1 }
        let settingsNode: Bool
        if case .settings? = Node(inode: node) { settingsNode = true } else { settingsNode = false }
        return root == Node.root.inode || settingsNode ? fuse_ino_t(node) : nil
    }

    /// Starts the loop thread: one thread reads every request and answers metadata itself;
    /// reads of recordings and settings edits go to the workers (FuseOperations).
    ///
    /// The loop ends only when the session is unmounted (the kernel answers ENODEV), not when
    /// a signal marks the session as exited (libfuse's own loop would): the daemon unmounts
    /// `.settings/` first, and that needs the tree served until it is gone.
    ///
    /// With `spinMicroseconds`, the thread keeps looking for the next request that long after
    /// each one (yielding its CPU to anything runnable) before it sleeps. A walk or a reader
    /// sends its next request within microseconds; a thread that slept must be woken on its
    /// CPU, which in a virtual machine costs more than answering the request (measured here:
    /// `find` over 100,000 calls 9.8 s sleeping, 4.9 s spinning 50 µs; fio 4 KiB reads p50
    /// 22 → 17 µs). Idle, it sleeps.
    func serve(spinMicroseconds: Int64 = 0) {
        let handle = SessionHandle(pointer: pointer), loop = loop, ring = ring
        let thread = Thread {
            var buffer = fuse_buf()
            let fd = fuse_session_fd(handle.pointer)
            if spinMicroseconds > 0 { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
            let spin = spinMicroseconds * 1000
            var last = monotonicNanoseconds()
            while true {
                let n = fuse_session_receive_buf(handle.pointer, &buffer)
                if n == -EAGAIN {
                    if monotonicNanoseconds() - last < spin {
                        sched_yield()
                    } else {
                        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                        _ = poll(&p, 1, -1)
                        last = monotonicNanoseconds()
                    }
                    continue
                }
                if n == -EINTR { continue }
                if n <= 0 { break }
                ring?.sawDeviceRequest(buffer.mem)
                fuse_session_process_buf(handle.pointer, &buffer)
                last = monotonicNanoseconds()
            }
            free(buffer.mem)
            loop.finish()
        }
        thread.name = "recfs-loop"
        thread.start()
    }

    var isFinished: Bool { loop.isFinished }

    func waitForEnd(seconds: Double) { loop.wait(seconds: seconds) }

    /// Unmounts (if still mounted) and waits for the loop to end (the kernel ends it).
    func stop() {
        guard !unmounted else { return }
        unmounted = true
        fuse_session_unmount(pointer)
        loop.wait(seconds: 10)
        ring?.wait(seconds: 10)
    }

    /// Frees the session; after stop(), once the workers have replied to what they held. A
    /// loop still running (a lazy unmount with files open keeps the connection) keeps its
    /// session: the process is ending, and freeing it under the loop would be worse.
    func destroy() {
        guard !destroyed, loop.isFinished, ring?.isRunning != true else { return }
        destroyed = true
        fuse_session_destroy(pointer)
        userdata?.release()
        userdata = nil
    }
}

@inline(__always)
func monotonicNanoseconds() -> Int64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
}

/// A session pointer handed to the loop's thread (libfuse's session is thread-safe for this).
private struct SessionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Tells the kernel to forget cached entries when the tree changes under them. Runs the
/// notifications on a thread of its own (never inside a request's handler, where the kernel
/// may hold a lock the notification needs) and waits for them a little, so a change made
/// through the mount shows by the time its close() returns.
private final class Notifier: @unchecked Sendable {
    private let queue = DispatchQueue(label: "recfs.notify")
    private let lock = NSLock()
    private var stopped = false
    /// Set once both sessions are mounted.
    var sessions: [FuseSession] = []

    func forget(days: [String], inodes: [UInt64], wait: Bool) {
        let done = DispatchSemaphore(value: 0)
        queue.async { [self] in
            defer { done.signal() }
            lock.lock()
            defer { lock.unlock() }
            guard !stopped else { return }
            for session in sessions {
                // Forgetting a date folder forgets everything the kernel holds beneath it.
                if session.root == Node.root.inode {
                    for day in days {
                        _ = day.withCString { fuse_lowlevel_notify_inval_entry(session.pointer, 1, $0, day.utf8.count) }
                    }
                }
                // Attributes, pages and cached listings.
                for inode in inodes {
                    guard let ino = session.kernelInode(inode) else { continue }
                    _ = fuse_lowlevel_notify_inval_inode(session.pointer, ino, 0, 0)
                }
            }
        }
        if wait { _ = done.wait(timeout: .now() + 2) }
    }

    func stop() { lock.withLock { stopped = true } }
}

/// Whether the session loop has returned.
private final class LoopState: @unchecked Sendable {
    private let condition = NSCondition()
    private var done = false

    var isFinished: Bool { condition.withLock { done } }

    func finish() { condition.withLock { done = true; condition.broadcast() } }

    func wait(seconds: Double) {
        condition.withLock { if !done { _ = condition.wait(until: Date().addingTimeInterval(seconds)) } }
    }
}

/// A mount that could not be made, in one sentence.
public struct MountError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
