// Mount: `recfs mount`, the store as files by date/flow/call, in the background by default.

import ArgumentParser
import Foundation
import Glibc
import RecordingFS
import RecordingStore

struct Mount: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mount the store's recordings as read-only files: DATE/FLOW/CALLSID/recording.wav and more.",
        discussion: """
            Runs in the background unless -f is given; the daemon's log goes to STORE/mount.log.
            SIGTERM or SIGINT (Ctrl-C with -f) unmounts cleanly, as does recfs unmount MOUNTPOINT.
            -o passes FUSE mount options, e.g. -o allow_other so other users' tools can read.
            When the kernel offers FUSE over io_uring (Linux 6.14+ with the fuse module's
            enable_uring set: echo 1 > /sys/module/fuse/parameters/enable_uring), the recording
            tree is served through it; --no-uring keeps /dev/fuse.
            """)

    @OptionGroup var options: StoreOptions
    @Argument(help: "An empty folder to mount on.") var mountpoint: String
    @Flag(name: [.customShort("f"), .long], help: "Stay in the foreground, logging to stderr.") var foreground = false
    @Option(name: .customShort("o"), help: ArgumentHelp("FUSE mount options, comma-separated.", valueName: "OPTIONS"))
    var mountOptions: [String] = []
    @Flag(help: "Serve through /dev/fuse even when the kernel offers FUSE over io_uring.") var noUring = false
    @Option(help: .hidden) var readyFd: Int32?

    func run() throws {
        try reporting("mount") {
            let storePath = try options.path()
            let target = URL(fileURLWithPath: mountpoint).standardizedFileURL.path
            try MountTable.checkMountable(target)
            _ = try Store.open(at: storePath)  // fail here, in the caller's terminal, if the store is unusable
            let fuseOptions = mountOptions.flatMap { $0.split(separator: ",").map(String.init) }
            if foreground || readyFd != nil {
                try serve(storePath: storePath, target: target, options: fuseOptions)
            } else {
                try daemonize(storePath: storePath, target: target, options: fuseOptions)
            }
        }
    }

    /// Mounts and serves in this process until unmounted.
    func serve(storePath: String, target: String, options: [String]) throws {
        // Started through /proc/self/exe (the very binary that was asked), the daemon would be
        // `exe` to ps and pgrep.
        try? "recfs".write(toFile: "/proc/self/comm", atomically: false, encoding: .utf8)
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&stopSignals, signal) }
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        // A long-lived daemon with a dozen threads: two malloc arenas, not one per thread, so
        // memory freed after a large listing is reused rather than stranded.
        _ = glibcMallopt(-8 /* M_ARENA_MAX, malloc.h */, 2)
        // A busy flow's day lists as one array of 10 MB and more. glibc's default threshold
        // rises to the size of any mapped block freed, so after the first such listing the
        // next ones came from the heap, fragmenting it: peak RSS over a walk of 1,000,000
        // recordings 92 to 135 MB from one try to the next. Fixed at 4 MiB, blocks that large
        // are mapped and given back whole when freed (64 to 77 MB), while the 1 to 2 MiB read
        // buffers stay on the heap; the heap's top is kept up to 8 MiB so they are not given
        // back and faulted in again at every read.
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 4 << 20)
        _ = glibcMallopt(-1 /* M_TRIM_THRESHOLD */, 8 << 20)
        let store = try Store.open(at: storePath)
        let fs = try RecordingFileSystem(store: store)
        let mount = try FuseMount(filesystem: fs, mountpoint: target, options: options, ring: !noUring)
        let transport = mount.servesThroughRing ? "FUSE over io_uring" : "/dev/fuse"
        printError("recfs mount: serving \(storePath) at \(target) through \(transport)\(readyFd == nil ? " (Ctrl-C or recfs unmount to stop)" : "")")
        if let fd = readyFd {
            var ok: UInt8 = 1
            _ = write(fd, &ok, 1)
            close(fd)
        }
        mount.run()
        printError("recfs mount: unmounted \(target)" + (mount.walkAheadSummary.map { " (\($0))" } ?? ""))
    }

    /// Starts `recfs mount -f` in a new session, waits until it has mounted (or failed), returns.
    func daemonize(storePath: String, target: String, options: [String]) throws {
        var pipeFds: [Int32] = [0, 0]
        guard pipe(&pipeFds) == 0 else { throw CLIError("pipe: \(String(cString: strerror(errno)))") }
        let log = URL(fileURLWithPath: storePath).standardizedFileURL.path + "/mount.log"
        var args = ["recfs", "mount", "--store", storePath, target, "--ready-fd", "3"]
        if !options.isEmpty { args += ["-o", options.joined(separator: ",")] }
        if noUring { args.append("--no-uring") }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 3)
        // The daemon keeps nothing else of ours open: a caller waiting for EOF on a pipe it
        // gave us (a shell's $(…), a test harness) must not wait for the daemon to end.
        let inherited = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
        for fd in inherited where fd > 3 { posix_spawn_file_actions_addclose(&actions, fd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A session of its own (POSIX_SPAWN_SETSID), free of the terminal; no signal blocked or
        // ignored on the caller's account (POSIX_SPAWN_SETSIGMASK, POSIX_SPAWN_SETSIGDEF), so
        // SIGTERM unmounts even when the caller (a test harness, a supervisor) blocks it.
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&stopSignals, signal) }
        posix_spawnattr_setsigdefault(&attributes, &stopSignals)
        posix_spawnattr_setflags(&attributes, 0x80 | 0x08 | 0x04)

        var pid: pid_t = 0
        let cArgs = args.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let spawned = posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, cArgs, environ)
        close(pipeFds[1])
        guard spawned == 0 else {
            close(pipeFds[0])
            throw CLIError("could not start the mount daemon: \(String(cString: strerror(spawned)))")
        }
        var ready: UInt8 = 0
        let n = read(pipeFds[0], &ready, 1)
        close(pipeFds[0])
        guard n == 1 else {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").suffix(3).joined(separator: "\n") ?? ""
            throw CLIError("the mount daemon stopped before mounting \(target)\(tail.isEmpty ? "" : ":\n\(tail)")")
        }
        print("mounted \(storePath) at \(target) (daemon pid \(pid), log \(log)); recfs unmount \(target) to stop")
    }
}

/// What /proc/self/mountinfo says of mount points.
enum MountTable {
    /// The filesystem type mounted at `path` (e.g. `fuse.recfs`), or nil if none.
    static func type(at path: String) -> String? {
        guard let info = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        var found: String?
        for line in info.split(separator: "\n") {
            let parts = line.components(separatedBy: " - ")
            let fields = parts[0].split(separator: " ")
            guard fields.count > 4, unescapeMountPath(fields[4]) == path, parts.count > 1 else { continue }
            found = parts[1].split(separator: " ").first.map(String.init)
        }
        return found
    }

    /// Whether the mount at `path` answers (a dead FUSE mount gives ENOTCONN). Asks with
    /// statvfs, which the kernel always passes to the daemon: a stat may be answered from
    /// attributes the kernel still holds.
    static func isDead(_ path: String) -> Bool {
        var st = statvfs()
        return statvfs(path, &st) != 0 && errno == ENOTCONN
    }

    /// Refuses a mount point that is missing, not a folder, already mounted, or a dead mount.
    static func checkMountable(_ path: String) throws {
        if let type = type(at: path) {
            if isDead(path) {
                throw CLIError("\(path) is a dead \(type) mount (its daemon is gone); run recfs unmount \(path), then mount again")
            }
            throw CLIError("\(path) is already mounted (\(type)); run recfs unmount \(path) first")
        }
        var st = stat()
        guard stat(path, &st) == 0 else { throw CLIError("\(path): \(String(cString: strerror(errno)))") }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw CLIError("\(path) is not a folder") }
    }
}

/// glibc's mallopt(3) (malloc.h is not part of the Glibc module).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
