// FuseMount: the libfuse3 low-level adapter. It translates kernel requests into calls on
// RecordingFileSystem and answers into replies; it holds no policy.

import CFuse3
import Foundation
import Glibc

/// One mounted filesystem: a FUSE session bound to a mount point.
///
/// Thread safety: libfuse calls the operations on its worker threads; they reach the
/// filesystem through the session's userdata and share nothing else.
public final class FuseMount: @unchecked Sendable {
    public let filesystem: RecordingFileSystem
    public let mountpoint: String
    /// Answers reads of recordings and settings edits beside the loop thread.
    let workers = WorkerPool(threads: 8, name: "recfs-worker")
    private var session: OpaquePointer?
    private var userdata: Unmanaged<FuseMount>?

    /// Creates the session and mounts it. `mountpoint` must be absolute and normalised (it is
    /// matched against the mount table). Options are `-o` options (`allow_other`, …).
    public init(filesystem: RecordingFileSystem, mountpoint: String, options: [String]) throws {
        self.filesystem = filesystem
        self.mountpoint = mountpoint
        var ops = makeOperations()
        var argv = ["recfs", "-o", (["fsname=recfs", "subtype=recfs"] + options).joined(separator: ",")]
        let cArgs = argv.map { strdup($0) }
        defer { cArgs.forEach { free($0) } }
        var pointers = cArgs.map { UnsafeMutablePointer<CChar>($0) }
        argv.removeAll()
        let retained = Unmanaged.passRetained(self)
        userdata = retained
        let se: OpaquePointer? = pointers.withUnsafeMutableBufferPointer { buffer in
            var args = fuse_args(argc: Int32(buffer.count), argv: buffer.baseAddress, allocated: 0)
            defer { fuse_opt_free_args(&args) }
            return fuse_session_new(&args, &ops, MemoryLayout<fuse_lowlevel_ops>.size, retained.toOpaque())
        }
        guard let se else {
            retained.release()
            throw MountError("could not start a FUSE session (bad -o options?)")
        }
        session = se
        guard fuse_session_mount(se, mountpoint) == 0 else {
            fuse_session_destroy(se)
            session = nil
            retained.release()
            throw MountError("could not mount on \(mountpoint) (is /dev/fuse usable and the folder empty?)")
        }
        raiseReadahead()
        let notifier = Notifier(session: SessionHandle(pointer: se))
        self.notifier = notifier
        filesystem.forget = { days, inodes, wait in notifier.forget(days: days, inodes: inodes, wait: wait) }
    }

    private var notifier: Notifier?

    /// Serves requests until unmounted or told to stop (SIGINT, SIGTERM, SIGHUP), then unmounts.
    ///
    /// The loop runs on a thread of its own. A signal may land on any of the process's threads,
    /// so its handler only marks the session as exited; this thread sees the mark and unmounts,
    /// which ends the loop's blocked reads.
    public func run() {
        guard let se = session else { return }
        fuse_set_signal_handlers(se)
        let finished = LoopState()
        let handle = SessionHandle(pointer: se)
        let loop = Thread {
            // One thread reads every request and answers metadata itself; reads of recordings
            // and settings edits go to the workers (FuseOperations).
            _ = fuse_session_loop(handle.pointer)
            finished.finish()
        }
        loop.start()
        var ticks = 0
        while !finished.isFinished {
            ticks += 1
            // Calls ingested or expired, and settings changed by `recfs settings set` (another
            // process), reach the kernel's caches here.
            if ticks % 10 == 0 {
                filesystem.settingsMayHaveChanged()
                filesystem.followCatalog()
            }
            if fuse_session_exited(se) != 0 {
                fuse_session_unmount(se)
                unmounted = true
                finished.wait(seconds: 10)
                break
            }
            finished.wait(seconds: 0.05)
        }
        fuse_remove_signal_handlers(se)
        close()
    }

    private var unmounted = false

    /// Asks the loop to stop (it then unmounts).
    public func stop() {
        if let se = session { fuse_session_exit(se) }
    }

    /// Unmounts and frees the session.
    public func close() {
        guard let se = session else { return }
        filesystem.forget = nil
        notifier?.stop()
        workers.stop()
        session = nil
        if !unmounted { fuse_session_unmount(se) }
        fuse_session_destroy(se)
        userdata?.release()
        userdata = nil
    }

    /// The kernel caps a FUSE mount's readahead at 128 KiB unless its backing device's
    /// read_ahead_kb says more; raise it to 1 MiB so sequential reads arrive as 1 MiB requests.
    /// Reads /proc/self/mountinfo, never the mount itself: nothing serves it yet, so even a
    /// stat of the mount point would hang.
    private func raiseReadahead() {
        guard let info = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return }
        for line in info.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[4] == mountpoint, line.contains("fuse.recfs") else { continue }
            let device = fields[2]
            try? "1024".write(toFile: "/sys/class/bdi/\(device)/read_ahead_kb", atomically: false, encoding: .utf8)
        }
    }
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
    private let session: SessionHandle
    private let queue = DispatchQueue(label: "recfs.notify")
    private let lock = NSLock()
    private var stopped = false

    init(session: SessionHandle) { self.session = session }

    func forget(days: [String], inodes: [UInt64], wait: Bool) {
        let done = DispatchSemaphore(value: 0)
        queue.async { [self] in
            defer { done.signal() }
            lock.lock()
            defer { lock.unlock() }
            guard !stopped else { return }
            // Forgetting a date folder forgets everything the kernel holds beneath it.
            for day in days {
                _ = day.withCString { fuse_lowlevel_notify_inval_entry(session.pointer, 1, $0, day.utf8.count) }
            }
            // Attributes, pages and cached listings.
            for inode in inodes { _ = fuse_lowlevel_notify_inval_inode(session.pointer, fuse_ino_t(inode), 0, 0) }
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
