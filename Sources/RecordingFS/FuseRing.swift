// FuseRing: FUSE over io_uring (Linux 6.14+, when the fuse module's enable_uring is on). The
// kernel hands each request to the ring queue of the CPU its caller runs on. The daemon keeps
// one thread per CPU, pinned there, for that queue: a walk's request then switches to a thread
// on the same CPU and back, with no cross-CPU wake-up and no idle CPU to rouse, the cost that
// dominates a tree walk in a virtual machine (BENCHMARKS.md).
//
// Large reads are the exception: the kernel's readahead sends them while the reader keeps
// running on its CPU, so they go to reader threads that may run on the other CPUs, and they
// decrypt straight into the entry's payload. The thread that answers an entry commits it from
// its own ring, and the kernel delivers that entry's next request to the same ring; a reader
// thread that receives anything but a read hands it back to the queue's thread, so entries
// drift home.
//
// libfuse 3.14 predates the protocol, so the ring is fitted under it: a delivered request is
// laid out as the bytes /dev/fuse would have given and passed to fuse_session_process_buf, and
// the session's custom writev puts the reply back into the entry. FORGET, INTERRUPT and INIT
// still arrive on /dev/fuse (the session's loop thread), and notifications are written there.

import CFuse3
import Foundation
import Glibc
import RecordingStore
import Synchronization

/// Whether the running kernel lets FUSE servers use io_uring (`fuse.enable_uring`).
func kernelOffersFuseRing() -> Bool {
    guard let text = try? String(contentsOfFile: "/sys/module/fuse/parameters/enable_uring", encoding: .utf8) else { return false }
    return text.hasPrefix("Y") || text.hasPrefix("1")
}

/// The kernel's queues: one per possible CPU (`/sys/devices/system/cpu/possible`, e.g. "0-1").
private func possibleCPUs() -> Int {
    guard let text = try? String(contentsOfFile: "/sys/devices/system/cpu/possible", encoding: .utf8) else {
        return Int(sysconf(Int32(_SC_NPROCESSORS_CONF)))
    }
    var highest = 0
    for part in text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
        if let last = part.split(separator: "-").last, let n = Int(last) { highest = max(highest, n) }
    }
    return highest + 1
}

/// Answers a READ: (file handle, offset, buffer) → bytes read.
typealias RingRead = @Sendable (UInt64, Int64, UnsafeMutableRawBufferPointer) throws(FSError) -> Int

/// One session's ring: a server per CPU queue and the reader threads.
final class FuseRing: @unchecked Sendable {
    /// Entries given to each queue: requests one CPU's callers can have in flight at once
    /// (a walk has one; a sequential reader's readahead two or three).
    static let entriesPerQueue = 8
    /// How long a queue's thread keeps looking for requests after its last one before it
    /// sleeps (as the /dev/fuse loop does; see FuseSession.serve).
    static let spinNanoseconds: Int64 = FuseSession.spinMicroseconds * 1000

    private let session: OpaquePointer
    private let fuseFD: Int32
    /// The connection as the rings name it: a duplicate of the session's descriptor, which
    /// libfuse closes at unmount while replies may still be committed.
    private(set) var ringFD: Int32 = -1
    let read: RingRead
    private(set) var queues: [RingServer] = []
    private(set) var readers: [RingServer] = []
    /// Every entry of every queue; set before the servers start, never changed after.
    private(set) var entries: [RingEntry] = []
    /// Requests handed to libfuse and not yet answered, by their unique id.
    private var pending: [UInt64: (entry: RingEntry, server: RingServer)] = [:]
    private let lock = NSLockLite()
    /// The INIT request's id, seen by the loop thread; its reply is where the ring is offered
    /// (only when the kernel's INIT offered it).
    private var initUnique: UInt64 = 0
    private var kernelOffered = false
    /// Set once the rings are made (before the INIT reply accepts them).
    private var started = false
    private let finished = DispatchGroup()
    /// Entries the kernel still holds or we are answering; 0 once the connection is gone.
    let liveEntries = Atomic<Int>(0)
    private let nextReader = Atomic<Int>(0)

    init(session: OpaquePointer, fuseFD: Int32, read: @escaping RingRead) {
        self.session = session
        self.fuseFD = fuseFD
        self.read = read
    }

    /// Called by the loop thread with each request read from /dev/fuse.
    func sawDeviceRequest(_ header: UnsafeRawPointer) {
        if header.load(fromByteOffset: 4, as: UInt32.self) == FUSE_INIT.rawValue {
            // fuse_init_in after the 40-byte header: flags at 12, flags2 at 16.
            let length = Int(header.load(as: UInt32.self))
            let flags = length >= 60 ? header.load(fromByteOffset: 52, as: UInt32.self) : 0
            let flags2 = length >= 60 ? header.load(fromByteOffset: 56, as: UInt32.self) : 0
            lock.locked {
                initUnique = header.load(fromByteOffset: 8, as: UInt64.self)
                kernelOffered = flags & UInt32(FUSE_INIT_EXT) != 0 && flags2 & UInt32(RECFS_FUSE_OVER_IO_URING_FLAGS2) != 0
            }
        }
    }

    /// The session's writev: a reply to a ring request goes into its entry and is committed;
    /// everything else (INIT, notifications) is written to /dev/fuse.
    func writev(_ fd: Int32, _ iov: UnsafeMutablePointer<iovec>, _ count: Int32) -> Int {
        let out = UnsafeRawPointer(iov[0].iov_base!)
        let unique = out.load(fromByteOffset: 8, as: UInt64.self)
        let (handed, isInit) = lock.locked { () -> ((entry: RingEntry, server: RingServer)?, Bool) in
            guard unique != 0 else { return (nil, false) }
            if let p = pending.removeValue(forKey: unique) { return (p, false) }
            return (nil, unique == initUnique && kernelOffered && !started)
        }
        guard let (entry, server) = handed else {
            var accepted = false
            if isInit, count >= 2, iov[1].iov_len >= MemoryLayout<fuse_init_out>.size {
                // Accept the ring (FUSE_INIT_EXT in flags, FUSE_OVER_IO_URING in flags2) only
                // once every ring is made: from then on the kernel holds every request until
                // each queue has an entry.
                let initOut = iov[1].iov_base!.assumingMemoryBound(to: fuse_init_out.self)
                let maxPages = initOut.pointee.flags & UInt32(FUSE_MAX_PAGES) != 0 ? Int(initOut.pointee.max_pages) : 32
                if prepare(maxWrite: Int(initOut.pointee.max_write), maxPages: maxPages) {
                    initOut.pointee.flags |= UInt32(FUSE_INIT_EXT)
                    initOut.pointee.flags2 |= UInt32(RECFS_FUSE_OVER_IO_URING_FLAGS2)
                    accepted = true
                }
            }
            let n = Glibc.writev(fd, iov, count)
            if accepted { start() }
            return n
        }
        var total = 0
        for i in 1..<Int(count) {
            let n = iov[i].iov_len
            guard total + n <= entry.payloadSize else {
                // Never: the kernel asks for no more than the payload holds.
                entry.setError(EIO, unique: unique)
                server.commitFromAnyThread(entry, unique: unique)
                return MemoryLayout<fuse_out_header>.size + total
            }
            if n > 0 { (entry.payload + total).copyMemory(from: iov[i].iov_base!, byteCount: n) }
            total += n
        }
        entry.header.copyMemory(from: out, byteCount: MemoryLayout<fuse_out_header>.size)
        entry.setPayloadSize(total)
        server.commitFromAnyThread(entry, unique: unique)
        return MemoryLayout<fuse_out_header>.size + total
    }

    /// Makes the entries, a server per CPU queue and the reader threads, each server with its
    /// ring; false (nothing kept, the session stays on /dev/fuse) if any of it fails.
    private func prepare(maxWrite: Int, maxPages: Int) -> Bool {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let payloadSize = max(8192, maxWrite, maxPages * page)
        let cpus = possibleCPUs()
        let perQueue = FuseRing.entriesPerQueue
        guard let channel = Optional(dup(fuseFD)), channel >= 0 else { return false }
        var made: [RingEntry] = []
        for i in 0..<(cpus * perQueue) {
            guard let e = RingEntry(qid: UInt16(i / perQueue), index: i, payloadSize: payloadSize) else {
                close(channel)
                return false
            }
            made.append(e)
        }
        let depth = UInt32(min(cpus * perQueue + 2, 1024))
        let q = (0..<cpus).map { RingServer(ring: self, queue: UInt16($0), payloadSize: payloadSize) }
        let r = (0..<max(2, min(cpus, 4))).map { _ in RingServer(ring: self, queue: nil, payloadSize: payloadSize) }
        var failure: Int32 = 0
        for server in q + r where failure == 0 { failure = server.setUp(depth: depth) }
        guard failure == 0 else {
            FileHandle.standardError.write(Data("recfs mount: no io_uring here (\(String(cString: strerror(-failure)))); serving through /dev/fuse\n".utf8))
            close(channel)
            return false
        }
        lock.locked {
            ringFD = channel
            entries = made
            queues = q
            readers = r
        }
        liveEntries.store(cpus * perQueue, ordering: .relaxed)
        return true
    }

    /// Starts the servers (after the INIT reply: the kernel refuses entries before it).
    private func start() {
        for _ in queues + readers { finished.enter() }
        lock.locked { started = true }
        for (i, server) in (queues + readers).enumerated() {
            let thread = Thread { [finished] in
                server.run()
                finished.leave()
            }
            thread.name = i < queues.count ? "recfs-ring-\(i)" : "recfs-ring-read"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// A request delivered to `server`: reads go to a reader thread, everything else to the
    /// entry's queue thread; each answers where it runs.
    fileprivate func route(_ entry: RingEntry, at server: RingServer) {
        let header = UnsafeRawPointer(entry.header)
        let isRead = header.load(fromByteOffset: 4, as: UInt32.self) == FUSE_READ.rawValue
        if isRead {
            let size = Int((header + Int(RECFS_FUSE_URING_OP_IN)).load(fromByteOffset: 16, as: UInt32.self))
            if server.queue == nil || size <= inlineReadLimit { answerRead(entry, at: server) } else { pickReader().post(.request(entry)) }
        } else if server.queue != nil {
            process(entry, at: server)
        } else {
            queues[Int(entry.qid)].post(.request(entry))
        }
    }

    private func pickReader() -> RingServer {
        readers[nextReader.add(1, ordering: .relaxed).newValue % readers.count]
    }

    /// Decrypts a READ straight into the entry's payload and commits it.
    private func answerRead(_ entry: RingEntry, at server: RingServer) {
        let header = UnsafeRawPointer(entry.header)
        let unique = header.load(fromByteOffset: 8, as: UInt64.self)
        let args = (header + Int(RECFS_FUSE_URING_OP_IN)).assumingMemoryBound(to: fuse_read_in.self).pointee
        let size = min(Int(args.size), entry.payloadSize)
        do throws(FSError) {
            let n = try read(args.fh, Int64(args.offset), UnsafeMutableRawBufferPointer(start: entry.payload, count: size))
            entry.setReply(payloadSize: n, unique: unique)
        } catch {
            entry.setError(error.code, unique: unique)
        }
        server.commit(entry, unique: unique)
    }

    /// Hands a request to libfuse, laid out as /dev/fuse would give it; libfuse's reply comes
    /// back through writev on this thread.
    private func process(_ entry: RingEntry, at server: RingServer) {
        let header = UnsafeRawPointer(entry.header)
        let length = Int(header.load(as: UInt32.self))
        let unique = header.load(fromByteOffset: 8, as: UInt64.self)
        let payloadSize = Int(header.load(fromByteOffset: Int(RECFS_FUSE_URING_ENT) + 16, as: UInt32.self))
        let inHeader = MemoryLayout<fuse_in_header>.size
        let firstArgument = length - inHeader - payloadSize
        let scratch = server.scratch
        guard firstArgument >= 0, firstArgument <= Int(RECFS_FUSE_URING_OP_IN), payloadSize <= entry.payloadSize,
              length <= scratch.count else {
            entry.setError(EIO, unique: unique)
            server.commit(entry, unique: unique)
            return
        }
        let base = scratch.baseAddress!
        base.copyMemory(from: header, byteCount: inHeader)
        if firstArgument > 0 {
            (base + inHeader).copyMemory(from: header + Int(RECFS_FUSE_URING_OP_IN), byteCount: firstArgument)
        }
        if payloadSize > 0 { (base + inHeader + firstArgument).copyMemory(from: entry.payload, byteCount: payloadSize) }
        lock.locked { pending[unique] = (entry, server) }
        var buffer = fuse_buf()
        buffer.mem = base
        buffer.size = length
        fuse_session_process_buf(session, &buffer)
    }

    private let refusalLogged = Atomic<Bool>(false)

    /// Says once that the kernel refused the ring.
    fileprivate func refused(_ error: Int32) {
        guard !refusalLogged.exchange(true, ordering: .relaxed) else { return }
        FileHandle.standardError.write(Data("recfs mount: the kernel refused FUSE over io_uring (\(String(cString: strerror(-error)))); serving through /dev/fuse\n".utf8))
    }

    /// An entry the kernel gave back with an error: the connection is gone. When none is
    /// left, every server stops.
    fileprivate func entryEnded() {
        if liveEntries.subtract(1, ordering: .relaxed).newValue == 0 { stopServers() }
    }

    private func stopServers() {
        for server in lock.locked({ queues + readers }) { server.post(.stop) }
    }

    /// Waits for the servers to end (the kernel ends them at unmount); then stops what is left.
    func wait(seconds: Double) {
        guard lock.locked({ started }) else { return }
        if finished.wait(timeout: .now() + seconds) == .timedOut {
            stopServers()
            _ = finished.wait(timeout: .now() + 2)
        }
        if finished.wait(timeout: .now()) == .success, ringFD >= 0 {
            close(ringFD)
            ringFD = -1
        }
    }

    /// Whether the kernel took the ring (its INIT offered it and every ring was made).
    var isActive: Bool { lock.locked { started } }

    var isRunning: Bool { lock.locked { started } && finished.wait(timeout: .now()) == .timedOut }
}

/// One ring entry: the buffers the kernel fills with a request and reads a reply from.
final class RingEntry: @unchecked Sendable {
    let header: UnsafeMutableRawPointer
    let payload: UnsafeMutableRawPointer
    let payloadSize: Int
    let qid: UInt16
    /// The tag its ring commands carry: its place in FuseRing.entries.
    let index: UInt64
    let iov: UnsafeMutablePointer<iovec>

    /// Whether the entry's last command was a REGISTER (only that may be retried).
    var registering = false

    init?(qid: UInt16, index: Int, payloadSize: Int) {
        // The payload's pages are touched only as replies need them.
        guard let mapped = mmap(nil, payloadSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapped != MAP_FAILED else { return nil }
        payload = mapped
        self.qid = qid
        self.index = UInt64(index)
        self.payloadSize = payloadSize
        header = .allocate(byteCount: Int(RECFS_FUSE_URING_HEADER_SIZE), alignment: 64)
        header.initializeMemory(as: UInt8.self, repeating: 0, count: Int(RECFS_FUSE_URING_HEADER_SIZE))
        iov = .allocate(capacity: 2)
        iov[0] = iovec(iov_base: header, iov_len: Int(RECFS_FUSE_URING_HEADER_SIZE))
        iov[1] = iovec(iov_base: payload, iov_len: payloadSize)
    }

    func setPayloadSize(_ n: Int) {
        header.storeBytes(of: UInt32(n), toByteOffset: Int(RECFS_FUSE_URING_ENT) + 16, as: UInt32.self)
    }

    func setReply(payloadSize n: Int, unique: UInt64) {
        header.storeBytes(of: UInt32(MemoryLayout<fuse_out_header>.size + n), toByteOffset: 0, as: UInt32.self)
        header.storeBytes(of: Int32(0), toByteOffset: 4, as: Int32.self)
        header.storeBytes(of: unique, toByteOffset: 8, as: UInt64.self)
        setPayloadSize(n)
    }

    func setError(_ error: Int32, unique: UInt64) {
        header.storeBytes(of: UInt32(MemoryLayout<fuse_out_header>.size), toByteOffset: 0, as: UInt32.self)
        header.storeBytes(of: -error, toByteOffset: 4, as: Int32.self)
        header.storeBytes(of: unique, toByteOffset: 8, as: UInt64.self)
        setPayloadSize(0)
    }
}

/// A thread with its own io_uring: a CPU queue's server (pinned to that CPU; it registers the
/// queue's entries) or a reader. Entries it commits come back to its ring with their next
/// request. Other threads reach it through its mailbox, which an eventfd read on the ring
/// wakes.
final class RingServer: @unchecked Sendable {
    enum Job {
        case request(RingEntry)
        case commit(RingEntry, UInt64)
        case stop
    }

    unowned let owner: FuseRing
    /// The CPU queue served, or nil for a reader.
    let queue: UInt16?
    let payloadSize: Int
    private var ring = recfs_ring()
    private let wakeFD: Int32
    private var mailbox: [Job] = []
    private let lock = NSLockLite()
    private var unsubmitted: UInt32 = 0
    private var thread: pthread_t?
    /// The request's bytes laid out for libfuse.
    let scratch: UnsafeMutableRawBufferPointer
    private let counter = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    private static let wakeTag = UInt64.max

    init(ring owner: FuseRing, queue: UInt16?, payloadSize: Int) {
        self.owner = owner
        self.queue = queue
        self.payloadSize = payloadSize
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK))
        scratch = .allocate(byteCount: payloadSize + 4096, alignment: 64)
    }

    /// The eventfd lives as long as the server: threads may still post after its loop ended.
    deinit {
        if wakeFD >= 0 { close(wakeFD) }
        recfs_ring_free(&ring)
    }

    /// Makes the ring (sized for every entry, which may all come to one ring, and the wake-up
    /// read); 0, or -errno.
    func setUp(depth: UInt32) -> Int32 {
        guard wakeFD >= 0 else { return -errno }
        return recfs_ring_init(&ring, depth, UInt32(IORING_SETUP_SQE128))
    }

    /// Queues a FUSE command, submitting what is queued first if the ring is full.
    private func push(_ op: Int, _ entry: RingEntry, commitId: UInt64) {
        entry.registering = op == RECFS_FUSE_URING_REGISTER
        let iov = op == RECFS_FUSE_URING_REGISTER ? entry.iov : nil
        while recfs_ring_fuse_cmd(&ring, owner.ringFD, UInt32(op), entry.index, entry.qid, commitId, iov) == -EBUSY {
            let n = recfs_ring_enter(&ring, unsubmitted, 0)
            if n > 0 { unsubmitted -= min(unsubmitted, UInt32(n)) } else if n != -EINTR && n != -EAGAIN { return }
        }
        unsubmitted += 1
    }

    /// Commits from this server's thread; from any other (a reply libfuse's handler made on
    /// a thread of its own), through the mailbox.
    func commitFromAnyThread(_ entry: RingEntry, unique: UInt64) {
        if let thread, pthread_equal(thread, pthread_self()) != 0 {
            commit(entry, unique: unique)
        } else {
            post(.commit(entry, unique))
        }
    }

    /// Gives this server a job and wakes it.
    func post(_ job: Job) {
        lock.locked { mailbox.append(job) }
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    /// Commits a reply from this thread and asks for the entry's next request (sent with the
    /// next wait).
    func commit(_ entry: RingEntry, unique: UInt64) {
        push(RECFS_FUSE_URING_COMMIT_AND_FETCH, entry, commitId: unique)
    }

    private func armWake() {
        _ = recfs_ring_read(&ring, wakeFD, counter, 8, RingServer.wakeTag)
        unsubmitted += 1
    }

    func run() {
        thread = pthread_self()
        if let queue { _ = recfs_pin_to_cpu(Int32(queue)) }
        armWake()
        if let queue {
            for e in owner.entries where e.qid == queue { push(RECFS_FUSE_URING_REGISTER, e, commitId: 0) }
        }
        let spin = queue == nil ? 0 : FuseRing.spinNanoseconds
        var cqe = io_uring_cqe()
        var lastActive = monotonicNanoseconds()
        while true {
            // Submits this thread's commands; within the spin, looks for the next request
            // without sleeping, else sleeps until one (or a job) arrives.
            let spinning = spin > 0 && monotonicNanoseconds() - lastActive < spin
            let n = recfs_ring_enter(&ring, unsubmitted, spinning ? 0 : 1)
            if n >= 0 { unsubmitted -= min(unsubmitted, UInt32(n)) }
            else if n != -EINTR && n != -EAGAIN && n != -EBUSY { return }
            var active = false
            while recfs_ring_reap(&ring, &cqe) != 0 {
                active = true
                if cqe.user_data == RingServer.wakeTag {
                    armWake()
                    let jobs = lock.locked { () -> [Job] in
                        defer { mailbox.removeAll(keepingCapacity: true) }
                        return mailbox
                    }
                    var stop = false
                    for job in jobs {
                        switch job {
                        case .request(let e): owner.route(e, at: self)
                        case .commit(let e, let unique): commit(e, unique: unique)
                        case .stop: stop = true
                        }
                    }
                    if stop {
                        // What the jobs queued still goes to the kernel.
                        _ = recfs_ring_enter(&ring, unsubmitted, 0)
                        return
                    }
                    continue
                }
                guard cqe.user_data < UInt64(owner.entries.count) else { continue }
                let e = owner.entries[Int(cqe.user_data)]
                if cqe.res == 0 {
                    e.registering = false
                    owner.route(e, at: self)
                } else if (cqe.res == -EAGAIN || cqe.res == -EINTR) && e.registering {
                    push(RECFS_FUSE_URING_REGISTER, e, commitId: 0)
                } else {
                    // The connection is gone (unmount, abort) or the entry was refused (then
                    // the kernel serves everything through /dev/fuse).
                    let gone = [ENOTCONN, ECONNABORTED, ECANCELED, EBADF, ENOENT, ENODEV].map { -$0 }
                    if !gone.contains(cqe.res) {
                        owner.refused(cqe.res)
                    }
                    owner.entryEnded()
                }
            }
            if active || !spinning {
                lastActive = monotonicNanoseconds()
            } else {
                sched_yield()
            }
        }
    }
}
