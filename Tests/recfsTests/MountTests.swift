// MountTests: the store through a real FUSE mount (/dev/fuse), exercised with POSIX calls and
// the tools analytics hosts use; every mount is unmounted and its daemon gone, failure included.

import Foundation
import Glibc
import Testing

/// A demo store mounted with `recfs mount` in a temporary folder.
final class MountedStore: @unchecked Sendable {
    let tmp: TempDir
    let store: String
    let mountpoint: String
    let transport: Transport

    /// - Parameters:
    ///   - transport: `.device` mounts with --no-uring; `.ring` lets the daemon use FUSE over
    ///     io_uring when the kernel offers it (scripts/bootstrap allows it).
    ///   - prepare: runs on the store before it is mounted.
    init(calls: [String]? = nil, transport: Transport = .ring, prepare: (String) throws -> Void = { _ in },
         sourceLocation: SourceLocation = #_sourceLocation) throws {
        let tmp = try TempDir("recfs-mount")
        self.tmp = tmp
        self.transport = transport
        mountpoint = tmp.sub("mnt")
        do {
            store = try StoreHelper.demoStore(tmp, calls: calls, sourceLocation: sourceLocation)
            try prepare(store)
        } catch {
            tmp.remove()
            throw error
        }
        do {
            try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
            try mount()
        } catch {
            tearDown()
            throw error
        }
    }

    func mount() throws {
        let r = try CLI.run(["mount", "--store", store, mountpoint] + (transport == .device ? ["--no-uring"] : []))
        guard r.status == 0 else { throw CLIFailure("mount failed: \(r.summary)") }
    }

    /// The io_uring instances the daemon holds open.
    func rings() -> Int {
        daemons().reduce(0) { total, pid in
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            return total + fds.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")) == "anon_inode:[io_uring]" }.count
        }
    }

    func unmount() throws {
        let r = try CLI.run(["unmount", mountpoint])
        guard r.status == 0 else { throw CLIFailure("unmount failed: \(r.summary)") }
    }

    /// Unmounts whatever is left (even a dead mount), ends any daemon, removes the folders.
    func tearDown() {
        MountedStore.clear(mountpoint)
        tmp.remove()
    }

    var isMounted: Bool { MountedStore.isMounted(mountpoint) }

    func daemons() -> [pid_t] { MountedStore.daemons(of: mountpoint) }

    /// Unmounts `mountpoint` (lazily, even a dead mount) and kills any daemon left serving it.
    static func clear(_ mountpoint: String) {
        if isMounted(mountpoint) { _ = try? CLI.run(["unmount", "--lazy", mountpoint], timeout: 30) }
        if isMounted(mountpoint) { umount2(mountpoint, Int32(MNT_DETACH)) }
        for pid in daemons(of: mountpoint) { kill(pid, SIGKILL) }
    }

    static func isMounted(_ mountpoint: String) -> Bool {
        ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "").contains(" \(mountpoint) ")
    }

    /// The `recfs mount` processes serving `mountpoint`.
    static func daemons(of mountpoint: String) -> [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name in
            guard let pid = pid_t(name), let raw = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return nil }
            let args = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return args.count > 2 && args[1] == "mount" && args.contains(mountpoint) ? pid : nil
        }
    }

    /// Paths of every regular file under the mount, relative, sorted.
    func files() -> [String] { StoreHelper.files(under: mountpoint) }
}

/// How the daemon talks to the kernel: FUSE over io_uring when offered, or /dev/fuse.
enum Transport: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case ring, device
    var testDescription: String { self == .ring ? "io_uring when offered" : "/dev/fuse" }
}

/// Whether the kernel lets FUSE servers use io_uring.
var kernelOffersFuseRing: Bool {
    ((try? String(contentsOfFile: "/sys/module/fuse/parameters/enable_uring", encoding: .utf8)) ?? "N").hasPrefix("Y")
}

/// Runs a tool, returning its status and output.
@discardableResult
func tool(_ path: String, _ args: [String], cwd: String? = nil) throws -> (status: Int32, out: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite(.serialized) struct MountTests {
    @Test(arguments: Transport.allCases) func everyFileEqualsRecfsCat(_ transport: Transport) throws {
        let m = try MountedStore(transport: transport)
        defer { m.tearDown() }
        let files = m.files()
        let recordings = files.filter { $0.hasSuffix("/recording.wav") || $0.hasSuffix("/recording.mp3") }
        #expect(recordings.count == (try StoreHelper.list(m.store)).count)
        var rng = SystemRandomNumberGenerator()
        for path in recordings {
            let parts = path.split(separator: "/").map(String.init)
            let sid = parts[2]
            let expected = try StoreHelper.cat(m.store, sid)
            let got = try Data(contentsOf: URL(fileURLWithPath: m.mountpoint + "/" + path))
            #expect(got == expected, "\(path)")
            // Random preads equal the same slices of recfs cat.
            let fd = open(m.mountpoint + "/" + path, O_RDONLY)
            defer { close(fd) }
            for _ in 0..<100 {
                let offset = Int.random(in: 0..<expected.count, using: &rng)
                let length = Int.random(in: 1...200_000, using: &rng)
                var buffer = [UInt8](repeating: 0, count: length)
                let n = pread(fd, &buffer, length, off_t(offset))
                #expect(Data(buffer[0..<max(0, n)]) == expected[offset..<min(expected.count, offset + length)])
            }
            var st = stat()
            #expect(stat(m.mountpoint + "/" + path, &st) == 0)
            #expect(Int(st.st_size) == expected.count)
            #expect(st.st_nlink == 1)
            #expect(st.st_blocks == (st.st_size + 511) / 512)
            #expect(st.st_mode & 0o777 == 0o444)
        }
    }

    @Test func channelFilesAndCallDocument() throws {
        let m = try MountedStore()
        defer { m.tearDown() }
        let agents = m.files().filter { $0.hasSuffix("/agent.wav") }
        #expect(!agents.isEmpty)
        for agent in agents {
            let dir = m.mountpoint + "/" + agent.dropLast("agent.wav".count)
            let stereo = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "recording.wav")))
            let left = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "agent.wav")))
            let right = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "customer.wav")))
            #expect(left.count == 44 + (stereo.count - 44) / 2)
            #expect(Array(left[0..<4]) == Array("RIFF".utf8) && left[22] == 1)
            var same = true
            for i in 0..<((stereo.count - 44) / 4) where left[44 + 2 * i] != stereo[44 + 4 * i] || right[45 + 2 * i] != stereo[47 + 4 * i] {
                same = false
                break
            }
            #expect(same, "\(agent) is not the left channel")
            let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "call.json"))) as? [String: Any]
            #expect(doc?["callSid"] as? String == agent.split(separator: "/")[2].description)
        }
    }

    @Test func pythonWaveMmapAndExtendedAttributes() throws {
        let m = try MountedStore()
        defer { m.tearDown() }
        let script = """
            import errno, mmap, os, sys, wave, hashlib
            root = sys.argv[1]
            n = 0
            for dirpath, dirs, files in os.walk(root):
                if dirpath == root:
                    dirs.remove('.settings')  # the recording tree only
                for f in files:
                    p = os.path.join(dirpath, f)
                    if f.endswith('.wav'):
                        with wave.open(p) as w:
                            assert w.getsampwidth() == 2, p
                            frames = w.readframes(w.getnframes())
                            assert len(frames) == w.getnframes() * w.getnchannels() * 2, p
                    with open(p, 'rb') as fh:
                        data = fh.read()
                        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                            assert mm[:] == data, p
                    if f.startswith('recording.'):
                        assert os.getxattr(p, 'user.recfs.sha256').decode() == hashlib.sha256(data).hexdigest(), p
                        assert os.getxattr(p, 'user.recfs.call_sid').decode() == os.path.basename(dirpath), p
                    for name, code in (('security.selinux', errno.EOPNOTSUPP), ('system.posix_acl_access', errno.EOPNOTSUPP),
                                       ('user.other', errno.ENODATA)):
                        try:
                            os.getxattr(p, name)
                            raise AssertionError(f'{p}: {name} answered')
                        except OSError as e:
                            assert e.errno == code, (p, name, e)
                    n += 1
            print(n)
            """
        let r = try tool("/usr/bin/python3", ["-c", script, m.mountpoint])
        #expect(r.status == 0, "\(r.out)")
        #expect(Int(r.out.trimmingCharacters(in: .whitespacesAndNewlines)) == m.files().filter { !$0.hasPrefix(".settings/") }.count)
    }

    @Test func theRecordingTreeIsReadOnly() throws {
        let m = try MountedStore()
        defer { m.tearDown() }
        let before = m.files()
        let file = m.mountpoint + "/" + before.first { $0.hasSuffix("recording.wav") }!
        let dir = (file as NSString).deletingLastPathComponent
        errno = 0
        #expect(open(file, O_WRONLY) == -1 && errno == EROFS)
        #expect(open(file, O_RDWR) == -1 && errno == EROFS)
        #expect(open(dir + "/new", O_CREAT | O_WRONLY, 0o644) == -1 && errno == EROFS)
        #expect(mkdir(dir + "/d", 0o755) == -1 && errno == EROFS)
        #expect(unlink(file) == -1 && errno == EROFS)
        #expect(rename(file, dir + "/x.wav") == -1 && errno == EROFS)
        #expect(chmod(file, 0o666) == -1 && errno == EROFS)
        #expect(truncate(file, 0) == -1 && errno == EROFS)
        #expect(rmdir(dir) == -1 && errno == EROFS)
        #expect(symlink(file, dir + "/link") == -1 && errno == EROFS)
        #expect(m.files() == before)
    }

    @Test func theTreeIsAReadOnlyMountAndSettingsAWritableOneOverIt() throws {
        let m = try MountedStore()
        defer { m.tearDown() }
        let info = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8).split(separator: "\n")
        func options(_ path: String) -> [Substring]? {
            info.first { $0.split(separator: " ")[4] == path }.map { $0.split(separator: " ")[5].split(separator: ",") }
        }
        #expect(options(m.mountpoint)?.contains("ro") == true)
        #expect(options(m.mountpoint + "/.settings")?.contains("rw") == true)
        // Two devices: tools that stay on one filesystem (find -xdev, rsync -x) skip the settings.
        var tree = stat(), settings = stat()
        #expect(stat(m.mountpoint, &tree) == 0 && stat(m.mountpoint + "/.settings", &settings) == 0)
        #expect(tree.st_dev != settings.st_dev)
        let xdev = try tool("/usr/bin/find", [m.mountpoint, "-xdev", "-name", "*.json"])
        #expect(!xdev.out.contains(".settings/"))
    }

    @Test(arguments: Transport.allCases) func unmountRefusesABusyTreeAndLeavesBothMountsServing(_ transport: Transport) throws {
        let m = try MountedStore(transport: transport)
        defer { m.tearDown() }
        let day = try #require(try FileManager.default.contentsOfDirectory(atPath: m.mountpoint).first { !$0.hasPrefix(".") })
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sleep")
        holder.arguments = ["30"]
        holder.currentDirectoryURL = URL(fileURLWithPath: m.mountpoint + "/" + day)
        try holder.run()
        defer { if holder.isRunning { holder.terminate(); holder.waitUntilExit() } }
        let refused = try CLI.run(["unmount", m.mountpoint])
        #expect(refused.status != 0)
        #expect(refused.err.contains("busy") && refused.err.contains("sleep (pid \(holder.processIdentifier))"), "\(refused.summary)")
        #expect(m.isMounted && MountedStore.isMounted(m.mountpoint + "/.settings"))
        #expect(FileManager.default.fileExists(atPath: m.mountpoint + "/.settings/retention.json"))
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        try m.unmount()
        #expect(!m.isMounted && !MountedStore.isMounted(m.mountpoint + "/.settings"))
        #expect(m.daemons().isEmpty)
    }

    @Test(arguments: Transport.allCases) func rsyncTwiceCopiesNothingTheSecondTimeEvenAfterARemount(_ transport: Transport) throws {
        let m = try MountedStore(transport: transport)
        defer { m.tearDown() }
        let dest = m.tmp.sub("copy")
        let first = try tool("/usr/bin/rsync", ["-a", m.mountpoint + "/", dest + "/"])
        #expect(first.status == 0, "\(first.out)")
        // `.settings/` is a mount of its own: rsync crosses into it, FileManager's walk does not.
        #expect(StoreHelper.files(under: dest).filter { !$0.hasPrefix(".settings/") } == m.files())
        #expect(StoreHelper.files(under: dest).contains(".settings/retention.json"))
        func transferred() throws -> Int? {
            let r = try tool("/usr/bin/rsync", ["-a", "--stats", m.mountpoint + "/", dest + "/"])
            let line = r.out.split(separator: "\n").first { $0.hasPrefix("Number of regular files transferred") }
            return line.flatMap { Int($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "")) }
        }
        #expect(try transferred() == 0)
        try m.unmount()
        try m.mount()
        #expect(try transferred() == 0)
        // cp -r, tar and find -exec sha256sum work and agree.
        let cp = try tool("/bin/cp", ["-r", m.mountpoint, m.tmp.sub("cp")])
        #expect(cp.status == 0, "\(cp.out)")
        let tar = try tool("/bin/tar", ["cf", m.tmp.sub("t.tar"), "-C", m.mountpoint, "."])
        #expect(tar.status == 0, "\(tar.out)")
        let sums = try tool("/usr/bin/find", [".", "-type", "f", "-exec", "sha256sum", "{}", "+"], cwd: m.mountpoint)
        let copied = try tool("/usr/bin/find", [".", "-type", "f", "-exec", "sha256sum", "{}", "+"], cwd: dest)
        #expect(sums.status == 0)
        #expect(Set(sums.out.split(separator: "\n")) == Set(copied.out.split(separator: "\n")))
    }

    @Test("keys rotated while mounted: every recording still opens, every call.json shows the new key with a later mtime, and rsync copies those again and nothing else")
    func keyRotationWhileMountedReachesCallJSONAndRsync() throws {
        let m = try MountedStore()
        defer { m.tearDown() }
        let dest = m.tmp.sub("copy")
        let first = try tool("/usr/bin/rsync", ["-a", m.mountpoint + "/", dest + "/"])
        #expect(first.status == 0, "\(first.out)")
        let documents = m.files().filter { $0.hasSuffix("/call.json") }
        #expect(!documents.isEmpty)
        // Every audio file, opened anew after each rotation (the daemon opens the recording
        // with the key the catalog names now, which it has not seen before).
        let audio = m.files().filter { $0.hasSuffix(".wav") || $0.hasSuffix(".mp3") }
        #expect(audio.count > documents.count)
        func expectAudioUnchanged(_ when: String) {
            for path in audio {
                let got = FileManager.default.contents(atPath: m.mountpoint + "/" + path)
                #expect(got == FileManager.default.contents(atPath: dest + "/" + path), "\(when): \(path) does not read as before")
            }
        }
        expectAudioUnchanged("before rotating")
        try CLI.ok(["keys", "rotate", "--store", m.store])
        expectAudioUnchanged("after a rotation")
        func mtime(_ path: String) throws -> Date {
            try #require(FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
        }
        var before: [String: (text: String, mtime: Date)] = [:]
        for d in documents {
            before[d] = (try String(contentsOfFile: m.mountpoint + "/" + d, encoding: .utf8), try mtime(m.mountpoint + "/" + d))
        }

        let rotation = try CLI.ok(["keys", "rotate", "--store", m.store])
        let list = try CLI.ok(["keys", "list", "--store", m.store])
        let newId = try #require(list.out.split(separator: "\n").first { $0.hasSuffix(" (active)") }.map { String($0.dropLast(" (active)".count)) },
                                 "\(rotation.summary) \(list.summary)")
        // The daemon looks at the catalog twice a second; until then the kernel keeps the old
        // attributes (a file opened meanwhile already shows the new text).
        let deadline = Date().addingTimeInterval(10)
        var seen = 0
        while Date() < deadline {
            seen = documents.filter { d in
                let path = m.mountpoint + "/" + d
                return ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains(newId)
                    && ((try? mtime(path)).map { $0 > before[d]!.mtime } ?? false)
            }.count
            if seen == documents.count { break }
            usleep(100_000)
        }
        #expect(seen == documents.count, "call.json files naming the new key \(newId) with a later mtime: \(seen) of \(documents.count)")
        for d in documents {
            let text = try String(contentsOfFile: m.mountpoint + "/" + d, encoding: .utf8)
            let was = try #require(before[d])
            #expect(text != was.text && text.utf8.count == was.text.utf8.count, "\(d)")
            #expect(try mtime(m.mountpoint + "/" + d) > was.mtime, "\(d): mtime did not move")
            #expect(try StoreHelper.cat(m.store, String(d.split(separator: "/")[2])).count > 0)
        }

        expectAudioUnchanged("after a second rotation")

        let again = try tool("/usr/bin/rsync", ["-a", "--stats", "--exclude=/.settings", m.mountpoint + "/", dest + "/"])
        let line = again.out.split(separator: "\n").first { $0.hasPrefix("Number of regular files transferred") }
        let transferred = line.flatMap { Int($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "")) }
        #expect(transferred == documents.count, "\(again.out)")
        for d in documents {
            #expect(try String(contentsOfFile: dest + "/" + d, encoding: .utf8) == String(contentsOfFile: m.mountpoint + "/" + d, encoding: .utf8))
        }
    }

    @Test(arguments: Transport.allCases) func aKilledDaemonIsRecognisedClearedAndMountedAgain(_ transport: Transport) throws {
        let m = try MountedStore(transport: transport)
        defer { m.tearDown() }
        let sums = try tool("/usr/bin/find", [".", "-type", "f", "-exec", "sha256sum", "{}", "+"], cwd: m.mountpoint)
        let daemons = m.daemons()
        #expect(daemons.count == 1)
        for pid in daemons { kill(pid, SIGKILL) }
        usleep(200_000)
        // What df sees (a stat may still be answered from the kernel's cached attributes).
        var st = statvfs()
        #expect(statvfs(m.mountpoint, &st) == -1 && errno == ENOTCONN)
        let refused = try CLI.run(["mount", "--store", m.store, m.mountpoint])
        #expect(refused.status != 0)
        #expect(refused.err.contains("dead") && refused.err.contains("recfs unmount"), "\(refused.summary)")
        let cleared = try CLI.run(["unmount", m.mountpoint])
        #expect(cleared.status == 0, "\(cleared.summary)")
        #expect(!m.isMounted)
        try m.mount()
        let again = try tool("/usr/bin/find", [".", "-type", "f", "-exec", "sha256sum", "{}", "+"], cwd: m.mountpoint)
        #expect(again.out == sums.out)
    }

    @Test func soxAndFFprobeReadEveryRecordingThroughTheMount() throws {
        let m = try MountedStore()
        defer { m.tearDown() }
        let audio = m.files().filter { $0.hasSuffix(".wav") || $0.hasSuffix(".mp3") }
        #expect(!audio.isEmpty)
        for f in audio {
            let path = m.mountpoint + "/" + f
            let sox = try tool("/usr/bin/sox", ["--i", path])
            #expect(sox.status == 0 && !sox.out.lowercased().contains("warn"), "sox --i \(f): \(sox.out)")
            let probe = try tool("/usr/bin/ffprobe", ["-v", "warning", "-show_entries", "stream=channels,sample_rate", "-of", "csv=p=0", path])
            #expect(probe.status == 0, "ffprobe \(f): \(probe.out)")
            let channels = f.hasSuffix("recording.wav") && audio.contains(f.replacingOccurrences(of: "recording.wav", with: "agent.wav")) ? "2" : "1"
            #expect(probe.out.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("," + channels), "ffprobe \(f): \(probe.out)")
        }
    }

    @Test func generatedCallsReadBackThroughTheMount() throws {
        let m = try MountedStore(prepare: { store in
            let gen = try CLI.run(["gen", "--store", store, "--calls", "60", "--days", "3", "--seed", "11", "--max-duration", "30"])
            #expect(gen.status == 0, "\(gen.summary)")
        })
        defer { m.tearDown() }
        let rows = try StoreHelper.list(m.store)
        #expect(rows.count > 20)
        let files = m.files()
        for row in rows {
            let sid = row["callSid"] as! String, date = row["date"] as! String, flow = row["flow"] as! String, file = row["file"] as! String
            let path = "\(date)/\(flow)/\(sid)/\(file)"
            #expect(files.contains(path), "\(path) is not in the mount")
            let got = try Data(contentsOf: URL(fileURLWithPath: m.mountpoint + "/" + path))
            #expect(got == (try StoreHelper.cat(m.store, sid)), "\(path)")
        }
    }

    // The daemon reads ahead only where the walker leaves a CPU idle.
    @Test(.enabled(if: ProcessInfo.processInfo.activeProcessorCount > 1), .timeLimit(.minutes(3)), arguments: Transport.allCases)
    func aWalkThroughAFlowIsReadFromItsFarEndByTheDaemonToo(_ transport: Transport) throws {
        let m = try MountedStore(transport: transport, prepare: { store in
            let gen = try CLI.run(["gen", "--store", store, "--calls", "300", "--days", "1", "--seed", "5", "--max-duration", "5"])
            #expect(gen.status == 0, "\(gen.summary)")
        })
        defer { m.tearDown() }
        // What each call folder holds, from the catalog.
        var expected: [String: Set<String>] = [:]
        for row in try StoreHelper.list(m.store) {
            let folder = "\(row["date"]!)/\(row["flow"]!)/\(row["callSid"]!)"
            let dual = (row["channels"] as? Int) == 2
            expected[folder] = Set([row["file"] as! String, "call.json"] + (dual ? ["agent.wav", "customer.wav"] : []))
        }
        // A walker slower than `find` (it pauses after each call folder), so the daemon's
        // reading from the far end meets it part way whatever the machine's speed.
        let fm = FileManager.default
        var walked: [String: Set<String>] = [:]
        for day in try fm.contentsOfDirectory(atPath: m.mountpoint) where !day.hasPrefix(".") {
            for flow in try fm.contentsOfDirectory(atPath: "\(m.mountpoint)/\(day)") {
                for call in try fm.contentsOfDirectory(atPath: "\(m.mountpoint)/\(day)/\(flow)") {
                    walked["\(day)/\(flow)/\(call)"] = Set(try fm.contentsOfDirectory(atPath: "\(m.mountpoint)/\(day)/\(flow)/\(call)"))
                    usleep(1000)
                }
            }
        }
        #expect(expected.count > 100)
        #expect(walked == expected)
        // Unmounted at once: the daemon's own reading does not keep the mount busy.
        try m.unmount()
        #expect(m.daemons().isEmpty)
        let log = (try? String(contentsOfFile: m.store + "/mount.log", encoding: .utf8)) ?? ""
        let summary = log.split(separator: "\n").last { $0.contains("unmounted") } ?? ""
        let read = summary.firstMatch(of: /read (\d+) call folders ahead of (\d+) walks?/)
        #expect(read != nil, "\(summary)")
        if let read {
            // Each flow is walked by the test from its start: the daemon starts after the
            // walker's third call folder and reads from the last back until they meet.
            let folders = Int(read.1)!, walks = Int(read.2)!
            let flowFolders = Set(expected.keys.map { $0.split(separator: "/").prefix(2).joined(separator: "/") }).count
            #expect(folders > 0 && folders <= expected.count - 3 * flowFolders, "\(summary)")
            #expect(walks >= 1, "\(summary)")
        }
    }

    @Test func theTreeIsServedThroughIoUringWhenTheKernelOffersIt() throws {
        let m = try MountedStore()
        defer { m.tearDown() }
        let log = { (try? String(contentsOfFile: m.store + "/mount.log", encoding: .utf8)) ?? "" }
        let cpus = Int(sysconf(Int32(_SC_NPROCESSORS_CONF)))
        if kernelOffersFuseRing {
            // A ring per CPU queue and per reader thread; every request but FORGET goes there.
            #expect(m.rings() >= cpus + 2, "io_uring instances: \(m.rings())")
            #expect(log().contains("through FUSE over io_uring"), "\(log())")
        } else {
            #expect(m.rings() == 0)
            #expect(log().contains("through /dev/fuse"), "\(log())")
        }
        let listed = try tool("/usr/bin/find", [m.mountpoint, "-xdev", "-type", "f"])
        #expect(listed.status == 0 && listed.out.split(separator: "\n").count == m.files().filter { !$0.hasPrefix(".settings/") }.count,
                "\(listed.out)")
        #expect(!log().contains("refused FUSE over io_uring"), "\(log())")
        try m.unmount()
        #expect(m.daemons().isEmpty)

        let device = try MountedStore(transport: .device)
        defer { device.tearDown() }
        #expect(device.rings() == 0)
        #expect(((try? String(contentsOfFile: device.store + "/mount.log", encoding: .utf8)) ?? "").contains("through /dev/fuse"))
    }

    /// The window the README promises: init's max_readahead must not cap the one the daemon
    /// writes (as it did when init asked for 1 MiB).
    @Test(.enabled(if: geteuid() == 0, "only root may set a mount's read_ahead_kb"), arguments: Transport.allCases)
    func aSequentialReadersWindowIsFourMebibytes(_ transport: Transport) throws {
        let m = try MountedStore(transport: transport)
        defer { m.tearDown() }
        let found = try tool("/usr/bin/mountpoint", ["-d", m.mountpoint])
        let device = found.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(found.status == 0 && !device.isEmpty, "\(found.out)")
        let window = try String(contentsOfFile: "/sys/class/bdi/\(device)/read_ahead_kb", encoding: .utf8)
        #expect(window.trimmingCharacters(in: .whitespacesAndNewlines) == "4096", "read_ahead_kb of \(device)")
    }

    @Test func sigtermUnmountsCleanly() throws {
        let m = try MountedStore()
        defer { m.tearDown() }
        let daemons = m.daemons()
        #expect(daemons.count == 1)
        for pid in daemons { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, m.isMounted || !m.daemons().isEmpty { usleep(20_000) }
        #expect(!m.isMounted)
        #expect(m.daemons().isEmpty)
    }

    @Test func unmountEndsTheDaemon() throws {
        let m = try MountedStore()
        defer { m.tearDown() }
        #expect(m.daemons().count == 1)
        try m.unmount()
        #expect(!m.isMounted)
        #expect(m.daemons().isEmpty)
        let again = try CLI.run(["unmount", m.mountpoint])
        #expect(again.status != 0 && again.err.contains("not mounted"), "\(again.summary)")
    }

    @Test(arguments: Transport.allCases) func parallelReadersNeverSeeAWrongByte(_ transport: Transport) throws {
        let m = try MountedStore(transport: transport)
        defer { m.tearDown() }
        let files = m.files()
        var contents: [String: Data] = [:]
        for f in files { contents[f] = try Data(contentsOf: URL(fileURLWithPath: m.mountpoint + "/" + f)) }
        let expected = contents
        let failures = Failures()
        let deadline = Date().addingTimeInterval(5)
        DispatchQueue.concurrentPerform(iterations: 16) { worker in
            var rng = SystemRandomNumberGenerator()
            while Date() < deadline {
                let f = files.randomElement(using: &rng)!
                let data = expected[f]!
                let fd = open(m.mountpoint + "/" + f, O_RDONLY)
                guard fd >= 0 else { failures.add("open \(f): errno \(errno)"); continue }
                for _ in 0..<20 where !data.isEmpty {
                    let offset = Int.random(in: 0..<data.count, using: &rng)
                    let length = Int.random(in: 1...131_072, using: &rng)
                    var buffer = [UInt8](repeating: 0, count: length)
                    let n = pread(fd, &buffer, length, off_t(offset))
                    if n < 0 || Data(buffer[0..<n]) != data[offset..<min(data.count, offset + length)] {
                        failures.add("worker \(worker): \(f) at \(offset)+\(length): n=\(n)")
                    }
                }
                close(fd)
            }
        }
        #expect(failures.list.isEmpty, "\(failures.list.prefix(5))")
    }
}

/// Failures collected from several threads.
final class Failures: @unchecked Sendable {
    private var items: [String] = []
    private let lock = NSLock()
    func add(_ s: String) { lock.withLock { items.append(s) } }
    var list: [String] { lock.withLock { items } }
}
