// SoakTests: the mount under load. 16 parallel readers over 1,000 generated recordings through a
// real FUSE mount for RECFS_SOAK_SECONDS (default 60): every byte read is compared with a
// reference made without the mount, and any errno fails the test naming the file, offset and
// length. A watchdog turns a hung request into a failure; the mount is always unmounted.

import Dispatch
import Foundation
import Glibc
import Testing

@Suite struct SoakTests {
    static let readers = 16
    static let wantedRecordings = 1000
    /// A single request blocked this long is a hang: the mount is torn down so the test ends.
    static let stuckLimit: Double = 90

    static var seconds: Double {
        ProcessInfo.processInfo.environment["RECFS_SOAK_SECONDS"].flatMap { Double($0) } ?? 60
    }

    @Test func sixteenReadersOverAThousandRecordingsSeeNoErrorAndNoWrongByte() throws {
        let began = Date()
        let m = try MountedStore(prepare: { store in try Self.generate(store) })
        defer { m.tearDown() }
        let mounted = Date()

        // The reference: recordings from `recfs cat` (checked against the catalog's sha256),
        // channel files de-interleaved from them here, call.json as first read (checked).
        let run = SoakRun(workers: Self.readers)
        let built = SoakBox<SoakTree>()
        let setUpFinished = Self.supervise(m, run, [{
            do { built.value = try SoakReference.build(m, run) } catch { run.fail("reference: \(error)") }
        }])
        guard setUpFinished, let tree = built.value, run.failures.count == 0 else {
            Issue.record("setting up the soak failed:\n\(run.report())")
            return
        }
        let recordings = tree.files.filter { $0.sha256 != nil }
        #expect(recordings.count >= Self.wantedRecordings)
        #expect(tree.files.contains { $0.path.hasSuffix("/agent.wav") } && tree.files.contains { $0.path.hasSuffix("/customer.wav") })
        #expect(tree.files.contains { $0.path.hasSuffix("/recording.mp3") } && tree.files.contains { $0.path.hasSuffix("/recording.wav") })
        let referenced = Date()

        // Every file read whole once, one reader, before the load.
        let first = SoakReader(id: 0, tree: tree, run: run)
        let firstPassFinished = Self.supervise(m, run, [{
            for file in tree.files where !run.shouldStop { first.wholeRead(file, dropCache: false) }
            run.end(0)
        }])
        guard firstPassFinished, run.failures.count == 0 else {
            Issue.record("reading every file once through the mount failed:\n\(run.report())")
            return
        }
        let firstPassDone = Date()

        let daemon = m.daemons().first
        let fdsBefore = daemon.map(Self.openFiles) ?? -1
        let log = m.store + "/mount.log"
        let logBefore = (try? FileManager.default.attributesOfItem(atPath: log))?[.size] as? Int ?? 0

        let deadline = Date().addingTimeInterval(Self.seconds)
        let readers = (0..<Self.readers).map { SoakReader(id: $0, tree: tree, run: run) }
        let finished = Self.supervise(m, run, readers.map { reader -> @Sendable () -> Void in { reader.loop(until: deadline) } })
        let soaked = Date()

        var totals: [String: Int] = [:]
        for reader in readers { totals.merge(reader.counts) { $0 + $1 } }
        let bytes = readers.reduce(0) { $0 + $1.bytesChecked }
        let ops = totals.values.reduce(0, +)
        #expect(finished, "the readers did not finish:\n\(run.report())")
        #expect(run.failures.count == 0, "\(run.report())")
        #expect(ops > 0)
        if finished {
            #expect(m.isMounted, "the mount is gone after the soak")
            #expect(m.daemons().count == 1, "daemons after the soak: \(m.daemons())")
        }
        if finished, let daemon {
            usleep(500_000)  // releases reach the daemon after close returns
            let fdsAfter = Self.openFiles(daemon)
            #expect(fdsAfter <= fdsBefore + 32, "the daemon had \(fdsBefore) open files before the soak and \(fdsAfter) after")
            print("soak: daemon open files \(fdsBefore) before, \(fdsAfter) after; \(Self.residentSet(daemon))")
        }
        let logData = FileManager.default.contents(atPath: log) ?? Data()
        let logged = String(decoding: logData.dropFirst(logBefore), as: UTF8.self)
        if !logged.isEmpty { print("soak: mount.log during the soak:\n\(logged.prefix(4000))") }

        func secs(_ a: Date, _ b: Date) -> String { String(format: "%.1f s", b.timeIntervalSince(a)) }
        print("""
            soak: \(recordings.count) recordings, \(tree.files.count) files, \(tree.folders.count) folders; \
            \(Self.readers) readers for \(secs(firstPassDone, soaked)): \(ops) operations \
            (\(totals.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))), \
            \(bytes / 1_048_576) MiB compared, \(run.failures.count) failures
            soak: store and mount \(secs(began, mounted)), reference \(secs(mounted, referenced)), \
            first full pass \(secs(referenced, firstPassDone)), soak \(secs(firstPassDone, soaked)), total \(secs(began, Date()))
            """)
    }

    /// Generates calls until the store holds at least `wantedRecordings` recordings (the demo
    /// fixtures included): short calls, both single-channel MP3 and dual-channel WAV.
    static func generate(_ store: String) throws {
        var seed = 1
        while true {
            let recorded = try StoreHelper.list(store).count
            if recorded >= wantedRecordings { return }
            guard seed <= 5 else { throw CLIFailure("gen made only \(recorded) recordings in \(seed - 1) rounds") }
            let calls = (wantedRecordings - recorded) * 4 / 3 + 20
            let r = try CLI.run(["gen", "--store", store, "--calls", "\(calls)", "--days", "3", "--seed", "\(seed)",
                                 "--max-duration", "10", "--speech", Fixtures.calls.path], timeout: 900)
            guard r.status == 0 else { throw CLIFailure("gen failed: \(r.summary)") }
            seed += 1
        }
    }

    /// Runs `bodies` on threads of their own and waits. A request blocked longer than
    /// `stuckLimit` is recorded as a failure and the mount torn down (lazy unmount, daemon
    /// killed) so blocked calls return. Returns whether every body finished in time.
    static func supervise(_ m: MountedStore, _ run: SoakRun, _ bodies: [@Sendable () -> Void]) -> Bool {
        let group = DispatchGroup()
        for body in bodies {
            group.enter()
            let thread = Thread {
                body()
                group.leave()
            }
            thread.stackSize = 1 << 22
            thread.start()
        }
        while group.wait(timeout: .now() + 1) == .timedOut {
            let stuck = run.stuck(longerThan: stuckLimit)
            guard !stuck.isEmpty else { continue }
            run.fail("hung for more than \(Int(stuckLimit)) s: \(stuck.joined(separator: "; ")) — tearing the mount down")
            run.stop()
            // The daemon goes first, by signal: a subprocess started now (recfs unmount) would
            // close the descriptors it inherits from the readers, and closing a file of a hung
            // mount blocks in the child before exec, and the parent with it. With the daemon
            // gone every blocked request returns ENOTCONN and the teardown can run.
            for pid in m.daemons() { kill(pid, SIGKILL) }
            m.tearDown()
            _ = group.wait(timeout: .now() + 30)
            return false
        }
        return true
    }

    static func openFiles(_ pid: pid_t) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count ?? -1
    }

    static func residentSet(_ pid: pid_t) -> String {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return status.split(separator: "\n").first { $0.hasPrefix("VmRSS") }.map { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().joined(separator: " ") }.map { "daemon RSS \($0)" } ?? ""
    }
}

/// One file of the mounted tree and where its expected bytes are on local disk.
struct SoakFile: Sendable {
    /// Relative to the mount point.
    let path: String
    /// Absolute path of the expected bytes (made without the mount).
    let reference: String
    let size: Int
    /// st_ino at the first stat: it must never change.
    let inode: UInt64
    /// Recordings: the catalog's sha256, also served as `user.recfs.sha256`.
    let sha256: String?
}

/// A folder of the mounted tree and the names it must list.
struct SoakFolder: Sendable {
    /// Relative to the mount point ("" is the mount point).
    let path: String
    let names: [String]
}

/// What the readers read.
struct SoakTree: Sendable {
    let mountpoint: String
    let files: [SoakFile]
    let folders: [SoakFolder]
}

/// A value set on another thread.
final class SoakBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    var value: T? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// Failures, the stop flag and each worker's current request, shared by the readers.
final class SoakRun: @unchecked Sendable {
    private let lock = NSLock()
    private var failureCount = 0
    private var firstFailures: [String] = []
    private var stopped = false
    private var current: [(what: String, since: Date)?]

    init(workers: Int) { current = Array(repeating: nil, count: max(1, workers)) }

    var failures: (count: Int, first: [String]) { lock.withLock { (failureCount, firstFailures) } }
    var shouldStop: Bool { lock.withLock { stopped } }
    func stop() { lock.withLock { stopped = true } }

    /// Records a failure; after 200 the run stops (the mount is evidently broken).
    func fail(_ message: String) {
        lock.withLock {
            failureCount += 1
            if firstFailures.count < 25 { firstFailures.append(message) }
            if failureCount >= 200 { stopped = true }
        }
    }

    func begin(_ worker: Int, _ what: String) { lock.withLock { current[worker] = (what, Date()) } }
    func end(_ worker: Int) { lock.withLock { current[worker] = nil } }

    func stuck(longerThan seconds: Double) -> [String] {
        let now = Date()
        return lock.withLock {
            current.enumerated().compactMap { i, c in
                guard let c, now.timeIntervalSince(c.since) > seconds else { return nil }
                return "worker \(i): \(c.what) (\(Int(now.timeIntervalSince(c.since))) s)"
            }
        }
    }

    func report() -> String {
        let f = failures
        return "\(f.count) failures; the first:\n" + f.first.joined(separator: "\n")
    }
}

/// Builds the reference bytes of every file of the mount in `TMP/reference`.
enum SoakReference {
    struct Row: Sendable {
        let sid, date, flow, file, sha256: String
        let channels, size: Int
        var folder: String { "\(date)/\(flow)/\(sid)" }
    }

    /// `run` learns each request made of the mount (the watchdog's view); the other steps
    /// do not touch it.
    static func build(_ m: MountedStore, _ run: SoakRun) throws -> SoakTree {
        let refDir = m.tmp.sub("reference")
        try FileManager.default.createDirectory(atPath: refDir, withIntermediateDirectories: true)
        let rows = try StoreHelper.list(m.store).map { raw -> Row in
            guard let sid = raw["callSid"] as? String, let date = raw["date"] as? String, let flow = raw["flow"] as? String,
                  let file = raw["file"] as? String, let sha = raw["sha256"] as? String,
                  let channels = raw["channels"] as? Int, let size = raw["size"] as? Int else {
                throw CLIFailure("recfs ls --json row lacks a field: \(raw)")
            }
            return Row(sid: sid, date: date, flow: flow, file: file, sha256: sha, channels: channels, size: size)
        }
        @Sendable func ref(_ row: Row, _ name: String) -> String { "\(refDir)/\(row.sid).\(name)" }

        // Recordings: recfs cat (decrypted by the CLI, no mount), then sha256sum against the catalog.
        let problems = SoakRun(workers: 1)
        DispatchQueue.concurrentPerform(iterations: rows.count) { i in
            let row = rows[i]
            do {
                let r = try CLI.run(["cat", "--store", m.store, row.sid])
                guard r.status == 0 else { return problems.fail(r.summary) }
                guard r.stdout.count == row.size else {
                    return problems.fail("recfs cat \(row.sid) gave \(r.stdout.count) bytes, the catalog says \(row.size)")
                }
                try r.stdout.write(to: URL(fileURLWithPath: ref(row, row.file)))
            } catch {
                problems.fail("recfs cat \(row.sid): \(error)")
            }
        }
        guard problems.failures.count == 0 else { throw CLIFailure(problems.report()) }
        let sums = try tool("/usr/bin/sha256sum", rows.map { ref($0, $0.file) })
        guard sums.status == 0 else { throw CLIFailure("sha256sum: \(sums.out.prefix(2000))") }
        var digests: [String: String] = [:]
        for line in sums.out.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { digests[parts[1].trimmingCharacters(in: .whitespaces)] = String(parts[0]) }
        }
        for row in rows where digests[ref(row, row.file)] != row.sha256 {
            throw CLIFailure("recfs cat \(row.sid) has sha256 \(digests[ref(row, row.file)] ?? "?"), the catalog says \(row.sha256)")
        }

        // Channel files: the stereo recording de-interleaved here, with a mono header built here.
        for row in rows where row.channels == 2 {
            let stereo = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ref(row, row.file))))
            guard let (agent, customer) = channels(ofStereo: stereo) else {
                throw CLIFailure("call \(row.sid): the dual-channel recording is not a canonical 16-bit stereo WAV")
            }
            try Data(agent).write(to: URL(fileURLWithPath: ref(row, "agent.wav")))
            try Data(customer).write(to: URL(fileURLWithPath: ref(row, "customer.wav")))
        }

        // The tree the catalog implies must be the tree the mount shows.
        var expected: [String: (reference: String, sha256: String?)] = [:]
        for row in rows {
            expected["\(row.folder)/\(row.file)"] = (ref(row, row.file), row.sha256)
            expected["\(row.folder)/call.json"] = (ref(row, "call.json"), nil)
            if row.channels == 2 {
                expected["\(row.folder)/agent.wav"] = (ref(row, "agent.wav"), nil)
                expected["\(row.folder)/customer.wav"] = (ref(row, "customer.wav"), nil)
            }
        }
        run.begin(0, "walking the mount")
        // Dot-entries at the top (`.settings/`, the editable settings) are not recordings:
        // left out of the reads, but the root must keep listing them.
        let shown = Set(StoreHelper.files(under: m.mountpoint).filter { !$0.hasPrefix(".") })
        let dotEntries = try FileManager.default.contentsOfDirectory(atPath: m.mountpoint).filter { $0.hasPrefix(".") }
        let missing = Set(expected.keys).subtracting(shown), extra = shown.subtracting(expected.keys)
        guard missing.isEmpty && extra.isEmpty else {
            throw CLIFailure("the mount's tree differs from the catalog: missing \(missing.sorted().prefix(10)), unexpected \(extra.sorted().prefix(10))")
        }

        // call.json: read once through the mount (it is made from the catalog), checked, kept.
        for row in rows {
            let path = "\(row.folder)/call.json"
            run.begin(0, "reading \(path)")
            let data = try Data(contentsOf: URL(fileURLWithPath: m.mountpoint + "/" + path))
            let doc = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            let recording = doc?["recording"] as? [String: Any]
            guard doc?["callSid"] as? String == row.sid, recording?["sha256"] as? String == row.sha256,
                  (recording?["size"] as? NSNumber)?.intValue == row.size, recording?["file"] as? String == row.file else {
                throw CLIFailure("\(path) does not describe call \(row.sid): \(String(decoding: data.prefix(600), as: UTF8.self))")
            }
            try data.write(to: URL(fileURLWithPath: ref(row, "call.json")))
        }

        // Sizes and inode numbers, as first seen.
        var files: [SoakFile] = []
        for path in expected.keys.sorted() {
            let e = expected[path]!
            run.begin(0, "stat \(path)")
            var st = stat()
            guard lstat(m.mountpoint + "/" + path, &st) == 0 else { throw CLIFailure("stat \(path): \(String(cString: strerror(errno)))") }
            let size = (try FileManager.default.attributesOfItem(atPath: e.reference))[.size] as? Int ?? -1
            guard Int(st.st_size) == size else { throw CLIFailure("stat \(path): size \(st.st_size), the reference has \(size) bytes") }
            files.append(SoakFile(path: path, reference: e.reference, size: size, inode: UInt64(st.st_ino), sha256: e.sha256))
        }
        run.end(0)

        var listings: [String: Set<String>] = ["": Set(dotEntries)]
        for path in expected.keys {
            let parts = path.split(separator: "/").map(String.init)
            for depth in 0..<parts.count {
                listings[parts[0..<depth].joined(separator: "/"), default: []].insert(parts[depth])
            }
        }
        let folders = listings.keys.sorted().map { SoakFolder(path: $0, names: listings[$0]!.sorted()) }
        return SoakTree(mountpoint: m.mountpoint, files: files, folders: folders)
    }

    /// The left and right channels of a canonical 16-bit stereo WAV as mono WAVs, or nil.
    static func channels(ofStereo s: [UInt8]) -> ([UInt8], [UInt8])? {
        guard s.count >= 44 else { return nil }
        func le16(_ i: Int) -> Int { Int(s[i]) | Int(s[i + 1]) << 8 }
        func le32(_ i: Int) -> Int { le16(i) | le16(i + 2) << 16 }
        guard s[0..<4].elementsEqual("RIFF".utf8), s[8..<12].elementsEqual("WAVE".utf8), s[12..<16].elementsEqual("fmt ".utf8),
              le32(16) == 16, le16(20) == 1, le16(22) == 2, le16(34) == 16, s[36..<40].elementsEqual("data".utf8),
              le32(40) == s.count - 44, le32(4) == s.count - 8 else { return nil }
        let rate = le32(24), frames = (s.count - 44) / 4
        var header: [UInt8] = []
        func put(_ text: String) { header += Array(text.utf8) }
        func put32(_ v: Int) { for k in 0..<4 { header.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
        func put16(_ v: Int) { for k in 0..<2 { header.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
        put("RIFF"); put32(36 + frames * 2); put("WAVE")
        put("fmt "); put32(16); put16(1); put16(1); put32(rate); put32(rate * 2); put16(2); put16(16)
        put("data"); put32(frames * 2)
        var left = header + [UInt8](repeating: 0, count: frames * 2)
        var right = left
        s.withUnsafeBufferPointer { src in
            left.withUnsafeMutableBufferPointer { l in
                right.withUnsafeMutableBufferPointer { r in
                    for f in 0..<frames {
                        let i = 44 + 4 * f, o = 44 + 2 * f
                        l[o] = src[i]; l[o + 1] = src[i + 1]
                        r[o] = src[i + 2]; r[o + 1] = src[i + 3]
                    }
                }
            }
        }
        return (left, right)
    }
}

/// One reader thread: random operations on random files and folders, every byte checked.
final class SoakReader: @unchecked Sendable {
    static let maxLength = (1 << 20) + 4096

    let id: Int
    let tree: SoakTree
    let run: SoakRun
    private(set) var counts: [String: Int] = [:]
    private(set) var bytesChecked = 0
    private let got = UnsafeMutableRawPointer.allocate(byteCount: SoakReader.maxLength, alignment: 4096)
    private let want = UnsafeMutableRawPointer.allocate(byteCount: SoakReader.maxLength, alignment: 4096)
    private var rng = SystemRandomNumberGenerator()

    init(id: Int, tree: SoakTree, run: SoakRun) {
        self.id = id
        self.tree = tree
        self.run = run
    }

    deinit {
        got.deallocate()
        want.deallocate()
    }

    func loop(until deadline: Date) {
        while Date() < deadline && !run.shouldStop {
            let pick = Int.random(in: 0..<100, using: &rng)
            let file = tree.files.randomElement(using: &rng)!
            switch pick {
            case 0..<35: preads(file)
            case 35..<50: wholeRead(file, dropCache: Bool.random(using: &rng))
            case 50..<68: stat(Bool.random(using: &rng) ? file : nil, folder: tree.folders.randomElement(using: &rng)!)
            case 68..<82: readdir(tree.folders.randomElement(using: &rng)!)
            case 82..<94: openClose()
            default: xattr()
            }
        }
        run.end(id)
    }

    private func fail(_ op: String, _ path: String, _ detail: String) {
        run.fail("reader \(id): \(op) \(path): \(detail)")
    }

    private func errorText(_ e: Int32 = errno) -> String { "errno \(e) (\(String(cString: strerror(e))))" }

    /// The expected bytes `offset..<offset+length` of `file` (clamped to its size) into `want`.
    private func expected(_ file: SoakFile, offset: Int, length: Int) -> Int? {
        let n = max(0, min(file.size, offset + length) - offset)
        guard n > 0 else { return 0 }
        let fd = open(file.reference, O_RDONLY)
        guard fd >= 0 else { fail("reference open", file.reference, errorText()); return nil }
        defer { close(fd) }
        var done = 0
        while done < n {
            let r = Glibc.pread(fd, want + done, n - done, off_t(offset + done))
            guard r > 0 else { fail("reference pread", file.reference, r < 0 ? errorText() : "early end at \(offset + done)"); return nil }
            done += r
        }
        return n
    }

    /// Checks `n` bytes in `got` against the reference at `offset`; names the first wrong byte.
    private func check(_ op: String, _ file: SoakFile, offset: Int, length: Int, n: Int) {
        guard let wanted = expected(file, offset: offset, length: length) else { return }
        guard n == wanted else {
            return fail(op, file.path, "offset \(offset) length \(length): returned \(n) bytes, expected \(wanted) (size \(file.size))")
        }
        bytesChecked += n
        guard n > 0, memcmp(got, want, n) != 0 else { return }
        let g = got.assumingMemoryBound(to: UInt8.self), w = want.assumingMemoryBound(to: UInt8.self)
        var i = 0
        while i < n && g[i] == w[i] { i += 1 }
        var j = n - 1
        while j > i && g[j] == w[j] { j -= 1 }
        fail(op, file.path, "offset \(offset) length \(length): wrong bytes \(offset + i)...\(offset + j), first got 0x\(String(g[i], radix: 16)) want 0x\(String(w[i], radix: 16))")
    }

    private func openFile(_ op: String, _ file: SoakFile) -> Int32? {
        run.begin(id, "open \(file.path)")
        let fd = open(tree.mountpoint + "/" + file.path, O_RDONLY)
        if fd < 0 { fail(op + " open", file.path, errorText()) }
        return fd < 0 ? nil : fd
    }

    private func closeFile(_ op: String, _ file: SoakFile, _ fd: Int32) {
        run.begin(id, "close \(file.path)")
        if close(fd) != 0 { fail(op + " close", file.path, errorText()) }
    }

    private func dropCache(_ op: String, _ file: SoakFile, _ fd: Int32) {
        let r = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
        if r != 0 { fail(op + " posix_fadvise(DONTNEED)", file.path, errorText(r)) }
    }

    /// A random offset: anywhere, at a 16 KiB chunk edge, near the header, near or past the end.
    private func offset(in size: Int) -> Int {
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<40: return Int.random(in: 0..<max(1, size), using: &rng)
        case 40..<60: return max(0, min(size, 16384 * Int.random(in: 0...(size / 16384), using: &rng) + Int.random(in: -64...64, using: &rng)))
        case 60..<75: return max(0, size - Int.random(in: 0...5000, using: &rng))
        case 75..<80: return size + Int.random(in: 0...100_000, using: &rng)
        default: return Int.random(in: 0..<min(max(1, size), 200), using: &rng)
        }
    }

    private func length() -> Int {
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<50: return Int.random(in: 1...4096, using: &rng)
        case 50..<85: return Int.random(in: 1...131_072, using: &rng)
        default: return Int.random(in: 1...(1 << 20) + 17, using: &rng)
        }
    }

    /// Random preads of one open file, compared with the reference.
    func preads(_ file: SoakFile) {
        guard let fd = openFile("pread", file) else { return }
        if Int.random(in: 0..<100, using: &rng) < 40 { dropCache("pread", file, fd) }
        for _ in 0..<Int.random(in: 1...16, using: &rng) {
            let offset = offset(in: file.size), length = length()
            run.begin(id, "pread \(file.path) offset \(offset) length \(length)")
            let n = Glibc.pread(fd, got, length, off_t(offset))
            guard n >= 0 else {
                fail("pread", file.path, "offset \(offset) length \(length): \(errorText())")
                break
            }
            check("pread", file, offset: offset, length: length, n: n)
        }
        closeFile("pread", file, fd)
        counts["pread", default: 0] += 1
    }

    /// The whole file with read(2) in varied sizes, compared piece by piece; then EOF.
    func wholeRead(_ file: SoakFile, dropCache drop: Bool) {
        guard let fd = openFile("read", file) else { return }
        if drop { dropCache("read", file, fd) }
        var offset = 0
        while true {
            let sizes = [4096, 65536, 131_072, 1 << 20, Int.random(in: 1...300_000, using: &rng)]
            let length = sizes.randomElement(using: &rng)!
            run.begin(id, "read \(file.path) offset \(offset) length \(length)")
            let n = read(fd, got, length)
            guard n >= 0 else { fail("read", file.path, "offset \(offset) length \(length): \(errorText())"); break }
            if n == 0 {
                if offset != file.size { fail("read", file.path, "end of file at \(offset), the file has \(file.size) bytes") }
                break
            }
            check("read", file, offset: offset, length: length, n: n)
            offset += n
            if offset > file.size { break }
        }
        closeFile("read", file, fd)
        counts["whole-read", default: 0] += 1
    }

    /// stat of a file (regular, 0444, its size, its first inode) or else of a folder.
    func stat(_ file: SoakFile?, folder: SoakFolder) {
        let path = file?.path ?? folder.path
        run.begin(id, "stat \(path)")
        var st = Glibc.stat()
        guard lstat(tree.mountpoint + (path.isEmpty ? "" : "/" + path), &st) == 0 else {
            return fail("stat", path, errorText())
        }
        if let file {
            if st.st_mode & S_IFMT != S_IFREG || st.st_mode & 0o777 != 0o444 || Int(st.st_size) != file.size || UInt64(st.st_ino) != file.inode {
                fail("stat", path, "mode \(String(st.st_mode, radix: 8)) size \(st.st_size) inode \(st.st_ino); expected a 0444 file of \(file.size) bytes, inode \(file.inode)")
            }
        } else if st.st_mode & S_IFMT != S_IFDIR {
            fail("stat", path, "mode \(String(st.st_mode, radix: 8)); expected a folder")
        }
        counts["stat", default: 0] += 1
    }

    /// opendir/readdir/closedir of a folder; the names must be exactly the expected ones.
    func readdir(_ folder: SoakFolder) {
        run.begin(id, "readdir \(folder.path.isEmpty ? "/" : folder.path)")
        guard let dir = opendir(tree.mountpoint + (folder.path.isEmpty ? "" : "/" + folder.path)) else {
            return fail("opendir", folder.path, errorText())
        }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = Glibc.readdir(dir) else {
                if errno != 0 { fail("readdir", folder.path, "after \(names.count) entries: \(errorText())") }
                break
            }
            let name = withUnsafePointer(to: entry.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
            if name != "." && name != ".." { names.append(name) }
        }
        if closedir(dir) != 0 { fail("closedir", folder.path, errorText()) }
        names.sort()
        if names != folder.names {
            let missing = Set(folder.names).subtracting(names), extra = Set(names).subtracting(folder.names)
            fail("readdir", folder.path, "\(names.count) names, expected \(folder.names.count); missing \(missing.sorted().prefix(5)), unexpected \(extra.sorted().prefix(5)), duplicates \(names.count - Set(names).count)")
        }
        counts["readdir", default: 0] += 1
    }

    /// Several files opened at once, fstat'ed, closed.
    func openClose() {
        var opened: [(SoakFile, Int32)] = []
        for _ in 0..<Int.random(in: 1...8, using: &rng) {
            let file = tree.files.randomElement(using: &rng)!
            if let fd = openFile("open", file) { opened.append((file, fd)) }
        }
        for (file, fd) in opened {
            run.begin(id, "fstat \(file.path)")
            var st = Glibc.stat()
            if fstat(fd, &st) != 0 {
                fail("fstat", file.path, errorText())
            } else if Int(st.st_size) != file.size {
                fail("fstat", file.path, "size \(st.st_size), expected \(file.size)")
            }
            closeFile("open", file, fd)
        }
        counts["open-close", default: 0] += 1
    }

    /// libc's getxattr(2) wrapper (the Glibc module leaves out sys/xattr.h).
    typealias GetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
    static let getxattr: GetXattr? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "getxattr").map { unsafeBitCast($0, to: GetXattr.self) }

    /// `user.recfs.sha256` of a recording equals the catalog's sha256.
    func xattr() {
        guard let file = tree.files.randomElement(using: &rng), let sha = file.sha256 else { return }
        run.begin(id, "getxattr \(file.path)")
        var buffer = [CChar](repeating: 0, count: 256)
        guard let getxattr = Self.getxattr else { return fail("getxattr", file.path, "not found in libc") }
        let n = getxattr(tree.mountpoint + "/" + file.path, "user.recfs.sha256", &buffer, buffer.count)
        guard n >= 0 else { return fail("getxattr user.recfs.sha256", file.path, errorText()) }
        let value = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if value != sha { fail("getxattr user.recfs.sha256", file.path, "\(value), expected \(sha)") }
        counts["xattr", default: 0] += 1
    }
}
