// SettingsMountTests: the mount's `.settings/` folder through a real FUSE mount, edited with the
// tools people use (bash redirection, cat, Python, vim both ways, sed -i, jq + mv, cp, truncate):
// valid edits apply (and `recfs settings show` agrees), invalid ones are refused with EINVAL,
// leave the file byte-identical and name every field in `.settings/.last-error` and mount.log.
// Also the plan's rules through the files, retention hiding and revealing recordings at once,
// a flow switched to dual, a daemon killed mid-write, and the guards (size, owner, names).
// Writes whose outcome a test checks are made by a short-lived process of their own (see
// `SettingsFS.writeAlone`); `aChildProcessDoesNotSwallowTheRefusal` shows why.
// Every mount is unmounted and its daemon gone, failure included.

import Dispatch
import Foundation
import Glibc
import Testing

/// A store (of any plan) mounted for settings tests, with options (`-o allow_other`).
final class SettingsFSMount: @unchecked Sendable {
    let tmp: TempDir
    let store: String
    let mountpoint: String
    let options: [String]
    let account: String

    /// The `.settings` folder and a path in it.
    var dir: String { mountpoint + "/.settings" }
    func path(_ name: String) -> String { dir + "/" + name }
    var logPath: String { store + "/mount.log" }

    /// - Parameters:
    ///   - calls: fixture call sids to ingest (nil: every ACdemo fixture; Growth only).
    ///   - prepare: runs on the store (and the temporary folder) before it is mounted.
    init(plan: String = "growth", calls: [String]? = [], options: [String] = [],
         prepare: (String, TempDir) throws -> Void = { _, _ in }, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let tmp = try TempDir("recfs-settings")
        self.tmp = tmp
        self.options = options
        mountpoint = tmp.sub("mnt")
        account = plan == "starter" ? Fixtures.starterAccount : plan == "enterprise" ? "ACent" : Fixtures.demoAccount
        do {
            store = try StoreHelper.initStore(tmp, account: account, plan: plan, sourceLocation: sourceLocation)
            if calls != [] {
                let files = calls?.map(Fixtures.callFile) ?? Fixtures.demoCallFiles
                let r = try CLI.run(["ingest", "--store", store] + files)
                guard r.status == 0 else { throw CLIFailure("ingest failed: \(r.summary)") }
            }
            try prepare(store, tmp)
            try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
            // Other users (allow_other tests) must reach the mount point.
            chmod(tmp.path, 0o755)
            chmod(mountpoint, 0o755)
        } catch {
            tmp.remove()
            throw error
        }
        do {
            try mount()
        } catch {
            tearDown()
            throw error
        }
    }

    func mount() throws {
        let r = try CLI.run(["mount", "--store", store, mountpoint] + options)
        guard r.status == 0 else { throw CLIFailure("mount failed: \(r.summary)") }
    }

    /// Unmounts whatever is left (even a dead mount), ends any daemon of this mount point, removes the folders.
    func tearDown() {
        MountedStore.clear(mountpoint)
        tmp.remove()
    }

    var isMounted: Bool { MountedStore.isMounted(mountpoint) }

    /// The `recfs mount` processes serving this mount point.
    func daemons() -> [pid_t] { MountedStore.daemons(of: mountpoint) }

    /// The bytes of a settings file as read through the mount.
    func read(_ name: String) -> [UInt8]? { SettingsFS.read(path(name)) }
    func sha(_ name: String) -> String? { read(name).map { SHA256.hex(Data($0)) } }
    func json(_ name: String) -> [String: Any]? { read(name).flatMap(SettingsFS.json) }
    /// `.settings/.last-error` as this process (root) reads it.
    var lastError: String { String(decoding: read(".last-error") ?? [], as: UTF8.self) }

    /// `recfs settings show` (stdout), recording an issue when it fails.
    func show(sourceLocation: SourceLocation = #_sourceLocation) throws -> Data {
        let r = try CLI.run(["settings", "show", "--store", store])
        #expect(r.status == 0, "\(r.summary)", sourceLocation: sourceLocation)
        return r.stdout
    }

    func showJSON(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let out = try show(sourceLocation: sourceLocation)
        return try #require(SettingsFS.json(Array(out)), "settings show printed no object", sourceLocation: sourceLocation)
    }

    var logSize: Int { ((try? FileManager.default.attributesOfItem(atPath: logPath))?[.size] as? Int) ?? 0 }

    /// What mount.log gained since `offset`.
    func log(since offset: Int) -> String {
        guard let data = FileManager.default.contents(atPath: logPath), data.count >= offset else { return "" }
        return String(decoding: data[offset...], as: UTF8.self)
    }

    /// Writes `document` into settings file `name` (open, write, close, in a process of its own) and
    /// expects it refused: EINVAL at close, the file byte-identical, `settings show` unchanged,
    /// and every field named in `.last-error` and in mount.log.
    func expectRefused(_ name: String, _ document: String, fields: [String], create: Bool = false,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = sha(name)
        let showBefore = try show(sourceLocation: sourceLocation)
        let offset = logSize
        let outcome = try SettingsFS.writeAlone(path(name), Array(document.utf8), flags: O_WRONLY | O_TRUNC | (create ? O_CREAT : 0))
        #expect(outcome == .failed("close", EINVAL), "\(name) ← \(document): \(outcome)", sourceLocation: sourceLocation)
        if !create { #expect(sha(name) == before, "\(name) changed after a refused write", sourceLocation: sourceLocation) }
        #expect(try show(sourceLocation: sourceLocation) == showBefore, "settings show changed after a refused write of \(name)",
                sourceLocation: sourceLocation)
        let error = lastError, log = log(since: offset)
        #expect(error.contains("refused"), ".last-error: \(error)", sourceLocation: sourceLocation)
        for field in fields {
            #expect(error.contains("\(field):"), ".last-error does not name \(field): \(error)", sourceLocation: sourceLocation)
            #expect(log.contains("\(field):"), "mount.log does not name \(field): \(log)", sourceLocation: sourceLocation)
        }
    }

    /// Writes `document` into `name` and expects it applied (every step succeeds, `.last-error` empty).
    func expectApplied(_ name: String, _ document: String, create: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let outcome = try SettingsFS.writeAlone(path(name), Array(document.utf8), flags: O_WRONLY | O_TRUNC | (create ? O_CREAT : 0))
        #expect(outcome == .ok, "\(name) ← \(document): \(outcome); .last-error: \(lastError)", sourceLocation: sourceLocation)
        #expect(lastError.isEmpty, ".last-error after a valid write: \(lastError)", sourceLocation: sourceLocation)
    }
}

/// Small tools for the settings tests.
enum SettingsFS {
    /// The names `.settings/` always lists.
    static let fixedListing = [".last-error", "access.json", "account.json", "flows", "retention.json", "storage.json"]

    /// What an open–write–close did.
    enum Outcome: Equatable, CustomStringConvertible {
        case ok
        /// The first step that failed ("open", "write", "close") and its errno.
        case failed(String, Int32)
        var description: String {
            switch self {
            case .ok: return "ok"
            case let .failed(step, e): return "\(step) failed: \(String(cString: strerror(e))) (\(e))"
            }
        }
    }

    /// open(2) with `flags`, write(2) all of `bytes` (in pieces of `chunk`), close(2), in this process.
    static func write(_ path: String, _ bytes: [UInt8], flags: Int32 = O_WRONLY | O_TRUNC, chunk: Int = 1 << 16) -> Outcome {
        let fd = open(path, flags | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return .failed("open", errno) }
        var written = 0
        var failure: Outcome?
        bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, min(chunk, raw.count - written))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = .failed("write", errno)
                    return
                }
                written += n
            }
        }
        let rc = close(fd)
        let closeErrno = errno
        if let failure { return failure }
        return rc == 0 ? .ok : .failed("close", closeErrno)
    }

    /// What `writeAlone` runs: open, write all of stdin, close; prints the first failing step and errno.
    static let writer = """
        import os, sys
        path, flags, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        data = sys.stdin.buffer.read()
        try:
            fd = os.open(path, flags, 0o644)
        except OSError as e:
            print("open", e.errno)
            sys.exit(0)
        step, err, off = "", 0, 0
        while off < len(data):
            try:
                off += os.write(fd, data[off:off + chunk])
            except OSError as e:
                step, err = "write", e.errno
                break
        try:
            os.close(fd)
        except OSError as e:
            if not step:
                step, err = "close", e.errno
        print(step or "ok", err)
        """

    /// `write`, done by a short-lived single-threaded process. A descriptor open in this (test)
    /// process is copied into every child any test thread starts meanwhile, and the child's close
    /// of its copy is a FUSE flush too (see `aChildProcessDoesNotSwallowTheRefusal`); a process of
    /// its own keeps the close's outcome with the writer.
    static func writeAlone(_ path: String, _ bytes: [UInt8], flags: Int32 = O_WRONLY | O_TRUNC, chunk: Int = 1 << 16) throws -> Outcome {
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("recfs-settings-doc-\(UUID().uuidString)")
        try Data(bytes).write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let r = try run("/usr/bin/python3", ["-c", writer, path, String(flags), String(chunk)], stdin: input)
        let words = r.out.split(whereSeparator: \.isWhitespace)
        guard r.status == 0, words.count == 2, let e = Int32(words[1]) else { throw CLIFailure("writer: \(r.out)") }
        return words[0] == "ok" ? .ok : .failed(String(words[0]), e)
    }

    /// The whole file (nil when it cannot be opened or read).
    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { return out }
            out += buffer[0..<n]
        }
    }

    static func json(_ bytes: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    /// Names in a folder (readdir), sorted.
    static func listing(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    /// A shell word.
    static func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Runs a program, stdout and stderr together, stdin from `stdin` or /dev/null, killed after `timeout` s.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], stdin: URL? = nil, timeout: Double = 60) throws -> (status: Int32, out: String) {
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("recfs-settings-run-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: capture.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: capture) }
        let handle = try FileHandle(forWritingTo: capture)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.standardOutput = handle
        p.standardError = handle
        let input = try stdin.map { try FileHandle(forReadingFrom: $0) }
        defer { try? input?.close() }
        p.standardInput = input ?? FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        try p.run()
        if done.wait(timeout: .now() + timeout) == .timedOut {
            kill(p.processIdentifier, SIGKILL)
            _ = done.wait(timeout: .now() + 5)
            try? handle.close()
            throw CLIFailure("\(executable) \(arguments) did not finish within \(timeout) s")
        }
        try handle.close()
        return (p.terminationStatus, String(decoding: (try? Data(contentsOf: capture)) ?? Data(), as: UTF8.self))
    }

    /// `bash -c SCRIPT`.
    @discardableResult
    static func bash(_ script: String) throws -> (status: Int32, out: String) {
        try run("/bin/bash", ["-c", script])
    }

    /// `bash -c SCRIPT` as uid/gid 65534 (nobody), no supplementary groups.
    static func bashAsNobody(_ script: String) throws -> (status: Int32, out: String) {
        try run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/bin/bash", "-c", script])
    }

    /// `account.retentionDays` of a parsed document.
    static func retention(_ doc: [String: Any]?) -> Int? { (doc?["account"] as? [String: Any])?["retentionDays"] as? Int }

    /// Days since an RFC 3339 time.
    static func age(_ rfc3339: String) -> Double? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let g = ISO8601DateFormatter()
        guard let d = f.date(from: rfc3339) ?? g.date(from: rfc3339) else { return nil }
        return Date().timeIntervalSince(d) / 86_400
    }

    /// Waits until `condition` holds or `seconds` pass; returns whether it held.
    static func eventually(within seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if condition() { return true }
            if Date() >= deadline { return false }
            usleep(20_000)
        }
    }
}

@Suite(.serialized) struct SettingsMountTests {
    /// One editing pattern: an invalid edit (refused, naming `fields`) then a valid one (retention → `to`).
    struct Pattern {
        let name: String
        /// The refused edit; its expected exit status (nil: not checked).
        let invalid: String
        let invalidStatus: ((Int32) -> Bool)?
        let fields: [String]
        /// The valid edit, given the current retention.
        let valid: (Int) -> String
        /// The retention it sets (nil: the document is the same; only `.last-error` clears).
        let to: Int?
    }

    @Test("echo, cat, Python, vim (in place and by rename), sed -i, jq + mv, cp and truncate: valid edits apply, invalid ones are refused whole")
    func everyEditingPattern() throws {
        let m = try SettingsFSMount()
        defer { m.tearDown() }
        let f = SettingsFS.q(m.path("account.json")), d = SettingsFS.q(m.dir)
        let nonZero: (Int32) -> Bool = { $0 != 0 }
        let python = """
            import sys
            f = open(sys.argv[1], 'w')
            f.write(sys.argv[2])
            try:
                f.close()
            except OSError as e:
                print('close:', e)
                sys.exit(3 if e.errno == 22 else 4)
            """
        func vim(_ copy: String, _ from: String, _ to: String) -> String {
            "vim -u NONE -N -es -c 'set backupcopy=\(copy)' -c \(SettingsFS.q("%s/\(from)/\(to)/")) -c wq \(f) < /dev/null"
        }
        let patterns: [Pattern] = [
            // bash ignores the result of close(2) after a builtin's redirection, so only the file
            // and .last-error can show the refusal here.
            Pattern(name: "echo > f", invalid: #"echo '{"account": {"retentionDays": 999, "beep": "loud"}}' > "# + f,
                    invalidStatus: nil, fields: ["account.retentionDays", "account.beep"],
                    valid: { _ in #"echo '{"account": {"retentionDays": 31}}' > "# + f }, to: 31),
            Pattern(name: "cat > f", invalid: "cat > \(f) <<'EOF'\n{\"account\": {\"beep\": \"loud\"}}\nEOF",
                    invalidStatus: nonZero, fields: ["account.beep"],
                    valid: { _ in "cat > \(f) <<'EOF'\n{\"accountSid\": \"ACdemo\", \"plan\": \"growth\", \"account\": {\"retentionDays\": 32}}\nEOF" }, to: 32),
            Pattern(name: "Python open('w')", invalid: "python3 -c \(SettingsFS.q(python)) \(f) '{\"account\": {\"mode\": \"stereo\"}}'",
                    invalidStatus: { $0 == 3 }, fields: ["account.mode"],
                    valid: { _ in "python3 -c \(SettingsFS.q(python)) \(f) '{\"account\": {\"retentionDays\": 33}}'" }, to: 33),
            Pattern(name: "vim backupcopy=yes (in place)", invalid: vim("yes", #""startPoint": "answer""#, #""startPoint": "middle""#),
                    invalidStatus: nonZero, fields: ["account.startPoint"],
                    valid: { vim("yes", "\"retentionDays\": \($0),", "\"retentionDays\": 34,") }, to: 34),
            Pattern(name: "vim backupcopy=no (by rename)", invalid: vim("no", #""timeZone": "Asia\/Kolkata""#, #""timeZone": "Mars\/Olympus""#),
                    invalidStatus: nonZero, fields: ["account.timeZone"],
                    valid: { vim("no", "\"retentionDays\": \($0),", "\"retentionDays\": 35,") }, to: 35),
            Pattern(name: "sed -i", invalid: #"sed -i 's/"region": "ap-south-1"/"region": "mars-1"/' "# + f,
                    invalidStatus: nonZero, fields: ["account.region"],
                    valid: { "sed -i 's/\"retentionDays\": \($0),/\"retentionDays\": 36,/' \(f)" }, to: 36),
            Pattern(name: "jq > tmp && mv tmp f",
                    invalid: "jq '.account.mp3BitrateKbps = 100' \(f) > \(d)/edit.tmp && mv \(d)/edit.tmp \(f); rc=$?; rm -f \(d)/edit.tmp; exit $rc",
                    invalidStatus: nonZero, fields: ["account.mp3BitrateKbps"],
                    valid: { _ in "jq '.account.retentionDays = 37' \(f) > \(d)/edit.tmp && mv \(d)/edit.tmp \(f)" }, to: 37),
            Pattern(name: "cp f.bak f",
                    invalid: #"sed 's/"format": "mp3"/"format": "flac"/' "# + f + " > \(d)/account.json.bak && cp \(d)/account.json.bak \(f); rc=$?; rm -f \(d)/account.json.bak; exit $rc",
                    invalidStatus: nonZero, fields: ["account.format"],
                    valid: { "cp \(f) \(d)/account.json.bak && sed -i 's/\"retentionDays\": \($0),/\"retentionDays\": 38,/' \(d)/account.json.bak && cp \(d)/account.json.bak \(f); rc=$?; rm -f \(d)/account.json.bak; exit $rc" },
                    to: 38),
            // The file always reads in its canonical form, so dropping the trailing newline is a
            // valid edit that changes nothing; it applies (and clears .last-error).
            Pattern(name: "truncate", invalid: "truncate -s 0 \(f)", invalidStatus: nonZero, fields: [""],
                    valid: { _ in "truncate -s -1 \(f)" }, to: nil),
        ]
        var current = 90
        #expect(SettingsFS.retention(m.json("account.json")) == current)
        for p in patterns {
            // Refused: EINVAL at close/fsync/rename, nothing applied, bytes identical, the reason recorded.
            let before = try #require(m.read("account.json"), "\(p.name): account.json unreadable")
            let showBefore = try m.show()
            let offset = m.logSize
            let bad = try SettingsFS.bash(p.invalid)
            if let ok = p.invalidStatus { #expect(ok(bad.status), "\(p.name): invalid edit exited \(bad.status): \(bad.out)") }
            let after = m.read("account.json")
            #expect(after.map { SHA256.hex(Data($0)) } == SHA256.hex(Data(before)), "\(p.name): account.json changed after a refused edit")
            #expect(try m.show() == showBefore, "\(p.name): settings show changed after a refused edit")
            let error = m.lastError, log = m.log(since: offset)
            #expect(error.contains("account.json: refused"), "\(p.name): .last-error: \(error)")
            #expect(log.contains("account.json: refused"), "\(p.name): mount.log gained: \(log)")
            for field in p.fields where !field.isEmpty {
                #expect(error.contains("\(field):"), "\(p.name): .last-error does not name \(field): \(error)")
                #expect(log.contains("\(field):"), "\(p.name): mount.log does not name \(field): \(log)")
            }
            if p.name == "truncate" { #expect(error.contains("empty"), "\(p.name): \(error)") }
            #expect(SettingsFS.listing(m.dir) == SettingsFS.fixedListing, "\(p.name): .settings holds \(SettingsFS.listing(m.dir))")

            // Applied: the file and `recfs settings show` have the new value; .last-error clears.
            let good = try SettingsFS.bash(p.valid(current))
            #expect(good.status == 0, "\(p.name): valid edit exited \(good.status): \(good.out); .last-error: \(m.lastError)")
            #expect(m.lastError.isEmpty, "\(p.name): .last-error after a valid edit: \(m.lastError)")
            if let to = p.to {
                #expect(SettingsFS.retention(m.json("account.json")) == to, "\(p.name): account.json reads \(String(decoding: m.read("account.json") ?? [], as: UTF8.self))")
                #expect(SettingsFS.retention(try m.showJSON()) == to, "\(p.name): settings show disagrees")
                current = to
            } else {
                #expect(m.read("account.json") == before, "\(p.name): account.json changed")
                #expect(try m.show() == showBefore, "\(p.name): settings show changed")
            }
            #expect(SettingsFS.listing(m.dir) == SettingsFS.fixedListing, "\(p.name): .settings holds \(SettingsFS.listing(m.dir))")
        }
        // Everything else in the document stayed as it was.
        let account = try #require(try m.showJSON()["account"] as? [String: Any])
        #expect(account["beep"] as? Bool == false && account["mode"] as? String == "single" && account["format"] as? String == "mp3")
        #expect(account["region"] as? String == "ap-south-1" && account["timeZone"] as? String == "Asia/Kolkata")
    }

    static let s3 = #"{"storage": {"kind": "s3", "bucket": "acme-recordings", "region": "ap-south-1", "accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "wJalr-top-secret-KEY"}}"#
    static let rules = #"{"retention": {"rules": [{"flow": "sales", "days": 180}, {"outcome": "disputed", "days": 365}]}}"#

    @Test("Starter: dual (account and flow), retention outside 7–90, selective retention and custom storage are refused, naming the field")
    func starterPlanRules() throws {
        let m = try SettingsFSMount(plan: "starter")
        defer { m.tearDown() }
        try m.expectRefused("account.json", #"{"account": {"mode": "dual"}}"#, fields: ["account.mode"])
        try m.expectRefused("account.json", #"{"account": {"retentionDays": 91}}"#, fields: ["account.retentionDays"])
        try m.expectRefused("account.json", #"{"account": {"retentionDays": 6}}"#, fields: ["account.retentionDays"])
        try m.expectRefused("retention.json", #"{"retention": {"rules": [{"flow": "sales", "days": 60}]}}"#, fields: ["retention.rules"])
        try m.expectRefused("storage.json", Self.s3, fields: ["storage.kind"])
        // A new flow file asking for dual: created, refused at close, and gone (no override).
        try m.expectRefused("flows/x.json", #"{"mode": "dual"}"#, fields: ["mode"], create: true)
        #expect(m.lastError.contains("flows/x.json"), "\(m.lastError)")
        #expect(SettingsFS.listing(m.path("flows")).isEmpty, "flows/ holds \(SettingsFS.listing(m.path("flows")))")
        #expect((try m.showJSON()["flows"] as? [String: Any])?["x"] == nil)
        // What Starter allows still applies through the same files.
        try m.expectApplied("account.json", #"{"account": {"retentionDays": 90}}"#)
        try m.expectApplied("flows/x.json", #"{"mode": "single"}"#, create: true)
        #expect(SettingsFS.listing(m.path("flows")) == ["x.json"])
        #expect(SettingsFS.retention(try m.showJSON()) == 90)
    }

    @Test("Growth: retention outside 7–180, selective retention and custom storage are refused; a dual flow is accepted")
    func growthPlanRules() throws {
        let m = try SettingsFSMount()
        defer { m.tearDown() }
        try m.expectRefused("account.json", #"{"account": {"retentionDays": 181}}"#, fields: ["account.retentionDays"])
        try m.expectRefused("account.json", #"{"account": {"retentionDays": 6}}"#, fields: ["account.retentionDays"])
        try m.expectRefused("retention.json", Self.rules, fields: ["retention.rules"])
        try m.expectRefused("storage.json", Self.s3, fields: ["storage.kind"])
        // Several wrong fields at once: each named.
        try m.expectRefused("account.json", #"{"account": {"retentionDays": 500, "beep": "yes", "colour": "red"}}"#,
                            fields: ["account.retentionDays", "account.beep", "account.colour"])
        // A member of another file, in this one.
        try m.expectRefused("account.json", #"{"storage": {"kind": "default"}}"#, fields: ["storage"])
        try m.expectApplied("flows/sales.json", #"{"mode": "dual"}"#, create: true)
        try m.expectApplied("account.json", #"{"account": {"mode": "dual", "retentionDays": 180}}"#)
        let show = try m.showJSON()
        #expect(((show["flows"] as? [String: Any])?["sales"] as? [String: Any])?["mode"] as? String == "dual", "\(show)")
        #expect((show["account"] as? [String: Any])?["mode"] as? String == "dual")
        #expect(SettingsFS.retention(show) == 180)
    }

    @Test("Enterprise: custom storage and retention rules are accepted; storage secrets read back masked")
    func enterpriseAcceptsStorageAndRules() throws {
        let m = try SettingsFSMount(plan: "enterprise")
        defer { m.tearDown() }
        try m.expectApplied("storage.json", Self.s3)
        let text = String(decoding: m.read("storage.json") ?? [], as: UTF8.self)
        let storage = try #require(m.json("storage.json")?["storage"] as? [String: Any], "storage.json: \(text)")
        #expect(storage["kind"] as? String == "s3" && storage["bucket"] as? String == "acme-recordings", "\(text)")
        #expect(storage["secretAccessKey"] as? String == "********", "\(text)")
        #expect(!text.contains("top-secret"), "the secret is readable through the mount: \(text)")
        let show = try m.show()
        #expect(!String(decoding: show, as: UTF8.self).contains("top-secret"))
        #expect(((try m.showJSON()["storage"] as? [String: Any])?["secretAccessKey"] as? String) == "********")
        // Writing the masked document back keeps the stored secret (and changes nothing).
        let masked = try #require(m.read("storage.json"))
        #expect(try SettingsFS.writeAlone(m.path("storage.json"), masked) == .ok, "\(m.lastError)")
        #expect(try m.show() == show)
        // A masked secret with no stored secret behind it is refused (azure has none yet).
        try m.expectRefused("storage.json", #"{"storage": {"kind": "azure", "accountName": "acmerec", "container": "calls", "accountKey": "********"}}"#,
                            fields: ["storage.accountKey"])

        try m.expectApplied("retention.json", Self.rules)
        let rules = try #require((m.json("retention.json")?["retention"] as? [String: Any])?["rules"] as? [[String: Any]])
        #expect(rules.count == 2 && rules[0]["flow"] as? String == "sales" && rules[1]["days"] as? Int == 365, "\(rules)")
        #expect(((try m.showJSON()["retention"] as? [String: Any])?["rules"] as? [Any])?.count == 2)
        try m.expectApplied("account.json", #"{"account": {"retentionDays": 3650, "mode": "dual"}}"#)
        #expect(SettingsFS.retention(try m.showJSON()) == 3650)
        try m.expectRefused("account.json", #"{"account": {"retentionDays": 3651}}"#, fields: ["account.retentionDays"])
    }

    @Test("retention 90 → 30 hides recordings older than 30 days at once and 30 → 90 brings them back; also by `recfs settings set` while mounted")
    func retentionHidesAndReveals() throws {
        let m = try SettingsFSMount(prepare: { store, _ in
            let gen = try CLI.run(["gen", "--store", store, "--calls", "40", "--days", "80", "--seed", "7", "--max-duration", "5"])
            guard gen.status == 0 else { throw CLIFailure("gen failed: \(gen.summary)") }
        })
        defer { m.tearDown() }
        let rows = try StoreHelper.list(m.store)
        func path(_ row: [String: Any]) -> String {
            "\(row["date"] as! String)/\(row["flow"] as! String)/\(row["callSid"] as! String)/\(row["file"] as! String)"
        }
        let old = rows.filter { (SettingsFS.age($0["startedAt"] as! String) ?? 0) > 31 }.map(path)
        let young = rows.filter { (SettingsFS.age($0["startedAt"] as! String) ?? 99) < 29 }.map(path)
        try #require(!old.isEmpty && !young.isEmpty, "gen made \(rows.count) recordings: \(old.count) old, \(young.count) young")
        func exists(_ p: String) -> Bool {
            var st = stat()
            return stat(m.mountpoint + "/" + p, &st) == 0
        }
        func gone(_ p: String) -> Bool {
            var st = stat()
            return stat(m.mountpoint + "/" + p, &st) == -1 && errno == ENOENT
        }
        func listed() -> Set<String> { Set(StoreHelper.files(under: m.mountpoint).filter { !$0.hasPrefix(".settings") }) }
        // The kernel has seen every path (dentries and attributes cached).
        var all = listed()
        for p in old + young { #expect(all.contains(p) && exists(p), "\(p) missing before any change") }

        // Through the file: at once, no waiting.
        try m.expectApplied("account.json", #"{"account": {"retentionDays": 30}}"#)
        for p in old { #expect(gone(p), "\(p) still there right after retention 30") }
        all = listed()
        for p in old { #expect(!all.contains(p), "readdir still lists \(p)") }
        for p in young { #expect(exists(p) && all.contains(p), "\(p) vanished") }

        try m.expectApplied("account.json", #"{"account": {"retentionDays": 90}}"#)
        for p in old { #expect(exists(p), "\(p) not back right after retention 90") }
        all = listed()
        for p in old + young { #expect(all.contains(p), "readdir does not list \(p) after retention 90") }

        // Through `recfs settings set` while mounted: within ~1.5 s.
        let doc = m.tmp.sub("r30.json")
        try Data(#"{"account": {"retentionDays": 30}}"#.utf8).write(to: URL(fileURLWithPath: doc))
        // (Lookups read the catalog at once; the root's date list follows at the mount's next
        // poll, so stat and readdir are both given the allowance.)
        try CLI.ok(["settings", "set", "--store", m.store, doc])
        #expect(SettingsFS.eventually(within: 1.5) { old.allSatisfy(gone) && listed().isDisjoint(with: old) },
                "recfs settings set 30: old recordings still shown after 1.5 s: \(old.filter { !gone($0) }), listed: \(listed().intersection(old))")
        #expect(SettingsFS.eventually(within: 1.5) { SettingsFS.retention(m.json("account.json")) == 30 }, "account.json does not follow settings set")
        all = listed()
        for p in young { #expect(exists(p) && all.contains(p), "\(p) vanished after settings set") }

        try Data(#"{"account": {"retentionDays": 90}}"#.utf8).write(to: URL(fileURLWithPath: doc))
        try CLI.ok(["settings", "set", "--store", m.store, doc])
        #expect(SettingsFS.eventually(within: 1.5) { old.allSatisfy(exists) && listed().isSuperset(of: old) },
                "recfs settings set 90: old recordings not back after 1.5 s: not found \(old.filter { !exists($0) }), not listed \(Set(old).subtracting(listed()))")
        all = listed()
        for p in young { #expect(all.contains(p), "readdir does not list \(p) after settings set 90") }
    }

    @Test("flows/collections.json mode single → dual on Growth: the next call of that flow is recorded dual and agent.wav appears")
    func flowSwitchedToDual() throws {
        let sid = "CAe0c893904726659b096dc93ff823b298"  // collections; the call asks no mode
        let control = "CA0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"
        let m = try SettingsFSMount(prepare: { store, tmp in
            // A copy of the same call (new sid) ingested before the change: single-channel.
            let dir = tmp.sub("calls")
            try Fixtures.copyLegs(into: dir)
            var call = try Fixtures.callJSON(sid)
            call["callSid"] = control
            call["startedAt"] = "2026-11-20T09:40:00Z"
            try JSONSerialization.data(withJSONObject: call).write(to: URL(fileURLWithPath: dir + "/control.json"))
            try CLI.ok(["ingest", "--store", store, dir + "/control.json"])
        })
        defer { m.tearDown() }
        let before = try #require(try StoreHelper.list(m.store).first { $0["callSid"] as? String == control })
        #expect(before["channels"] as? Int == 1 && before["mode"] as? String == "single", "\(before)")

        #expect(SettingsFS.listing(m.path("flows")).isEmpty)
        try m.expectApplied("flows/collections.json", #"{"override": true, "mode": "dual"}"#, create: true)
        #expect(SettingsFS.listing(m.path("flows")) == ["collections.json"])
        let file = try #require(m.json("flows/collections.json"))
        #expect(file["flow"] as? String == "collections" && file["mode"] as? String == "dual" && file["plan"] as? String == "growth", "\(file)")
        #expect(((try m.showJSON()["flows"] as? [String: Any])?["collections"] as? [String: Any])?["mode"] as? String == "dual")

        try CLI.ok(["ingest", "--store", m.store, Fixtures.callFile(sid)])
        let row = try #require(try StoreHelper.list(m.store).first { $0["callSid"] as? String == sid })
        #expect(row["channels"] as? Int == 2 && row["mode"] as? String == "dual" && row["file"] as? String == "recording.wav", "\(row)")
        let folder = "\(m.mountpoint)/\(row["date"] as! String)/collections/\(sid)"
        #expect(SettingsFS.eventually(within: 2) { FileManager.default.fileExists(atPath: folder + "/agent.wav") },
                "agent.wav not in the mount: \(SettingsFS.listing(folder))")
        #expect(SettingsFS.listing(folder).contains("customer.wav"))
        let stereo = try #require(SettingsFS.read(folder + "/recording.wav"))
        #expect(stereo.count > 44 && stereo[22] == 2, "recording.wav is not stereo")
        #expect(Data(stereo) == (try StoreHelper.cat(m.store, sid)))
        // The control call, made before the change, stays single.
        let controlFolder = "\(m.mountpoint)/\(before["date"] as! String)/collections/\(control)"
        #expect(SettingsFS.listing(controlFolder).contains("recording.mp3") && !SettingsFS.listing(controlFolder).contains("agent.wav"),
                "\(SettingsFS.listing(controlFolder))")
    }

    @Test("kill -9 of the daemon while account.json is open and half written: after unmount and mount the settings are the same bytes")
    func killedDaemonMidWrite() throws {
        let m = try SettingsFSMount(calls: [Fixtures.dualSid])
        defer { m.tearDown() }
        let before = try #require(m.read("account.json"))
        let showBefore = try m.show()
        let text = String(decoding: before, as: UTF8.self)
        try #require(text.contains("\"retentionDays\": 90,"))
        let doc = Array(text.replacingOccurrences(of: "\"retentionDays\": 90,", with: "\"retentionDays\": 45,").utf8)
        let docFile = m.tmp.sub("account-45.json")
        try Data(doc).write(to: URL(fileURLWithPath: docFile))

        // A process holds account.json open, half of a valid document written.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = ["-c", """
            import os, sys, time
            data = open(sys.argv[2], 'rb').read()
            fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
            os.write(fd, data[:len(data) // 2])
            print('half', flush=True)
            time.sleep(120)
            """, m.path("account.json"), docFile]
        let pipe = Pipe()
        holder.standardOutput = pipe
        holder.standardError = pipe
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() } }
        let said = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
        try #require(said.contains("half"), "the writer: \(said)")

        let daemons = m.daemons()
        #expect(daemons.count == 1)
        for pid in daemons { kill(pid, SIGKILL) }
        #expect(SettingsFS.eventually(within: 5) { m.daemons().isEmpty }, "the daemon outlived SIGKILL")
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        #expect(try m.show() == showBefore, "the store's settings changed")
        let cleared = try CLI.run(["unmount", m.mountpoint])
        #expect(cleared.status == 0, "\(cleared.summary)")
        #expect(!m.isMounted)
        try m.mount()
        #expect(m.read("account.json") == before, "account.json reads differently after the crash: \(String(decoding: m.read("account.json") ?? [], as: UTF8.self))")
        #expect(try m.show() == showBefore)
        #expect(m.lastError.isEmpty)
        let fsck = try CLI.run(["fsck", "--store", m.store])
        #expect(fsck.status == 0, "\(fsck.summary)")
        // And the mount takes edits again.
        #expect(try SettingsFS.writeAlone(m.path("account.json"), doc) == .ok, "\(m.lastError)")
        #expect(SettingsFS.retention(try m.showJSON()) == 45)
    }

    /// Bug (found by SettingsFuzzTests): FUSE sends a flush for every close of a descriptor of the
    /// open file, including the copy a child process inherits and drops at exec or exit. The
    /// mount applies (or refuses) the handle's document at that flush and marks it clean, so the
    /// writer's own close(2) then returns 0 for a document that was refused: the EINVAL goes to
    /// the child, which never looks. Any writer that starts a program while a settings file is
    /// open (a Python script calling subprocess, a multi-threaded tool, a shell holding fd 3) is
    /// told a refused edit succeeded. Fails until the refusal stays with the handle (sticky until
    /// it is written again), as a failed write-back does on other filesystems.
    @Test("a child process started while account.json is open does not swallow the refusal: the writer's close still fails with EINVAL")
    func aChildProcessDoesNotSwallowTheRefusal() throws {
        let m = try SettingsFSMount()
        defer { m.tearDown() }
        let before = m.sha("account.json")
        let r = try SettingsFS.run("/usr/bin/python3", ["-c", """
            import os, subprocess, sys
            fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
            os.write(fd, b'{"account": {"beep": "loud"}}')
            subprocess.run(['/bin/true'])  # the child's copy of fd is closed at exec: a flush
            try:
                os.close(fd)
                print('close: ok')
            except OSError as e:
                print('close: errno', e.errno)
            """, m.path("account.json")])
        #expect(r.status == 0 && r.out.contains("close: errno \(EINVAL)"),
                "the writer's close did not report the refusal: \(r.out); .last-error: \(m.lastError)")
        #expect(m.sha("account.json") == before)
        #expect(m.lastError.contains("account.beep:"), "\(m.lastError)")
    }

    @Test("guards: EFBIG past 1 MiB, the last of two writers wins whole, non-owners get EACCES, no folders, no removing or misnaming settings files, flow files come and go")
    func guards() throws {
        let m = try SettingsFSMount(options: ["-o", "allow_other"])
        defer { m.tearDown() }
        let account = m.path("account.json")
        let original = try #require(m.read("account.json"))
        let originalSha = SHA256.hex(Data(original))

        // Over 1 MiB: write(2) fails with EFBIG, nothing applied.
        let oversized = try SettingsFS.run("/usr/bin/python3", ["-c", """
            import os, sys
            fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
            chunk, total, err = b' ' * 65536, 0, 0
            while total <= 2 << 20:
                try:
                    total += os.write(fd, chunk)
                except OSError as e:
                    err = e.errno
                    break
            try:
                os.close(fd)
                closed = 0
            except OSError as e:
                closed = e.errno
            print(err, total, closed)
            """, account])
        let words = oversized.out.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        #expect(oversized.status == 0 && words.count == 3, "\(oversized)")
        if words.count == 3 {
            #expect(words[0] == EFBIG, "writing past 1 MiB: errno \(words[0])")
            #expect(words[1] <= 1 << 20, "\(words[1]) bytes were taken")
            #expect(words[2] != 0, "the oversized write was applied at close")
        }
        #expect(m.sha("account.json") == originalSha)
        let grow = try SettingsFS.bash("truncate -s 2M \(SettingsFS.q(account))")
        #expect(grow.status != 0 && grow.out.contains("File too large"), "\(grow)")
        let big = try SettingsFS.bash("head -c 1100000 /dev/zero > \(SettingsFS.q(m.path("big.tmp"))); rc=$?; rm -f \(SettingsFS.q(m.path("big.tmp"))); exit $rc")
        #expect(big.status != 0 && big.out.contains("File too large"), "a 1.1 MB scratch file: \(big)")
        #expect(m.sha("account.json") == originalSha)

        // Two writers at once: each buffers its own document; the last valid close wins, whole.
        let text = String(decoding: original, as: UTF8.self)
        let docA = Array(text.replacingOccurrences(of: "\"retentionDays\": 90,", with: "\"retentionDays\": 41,")
            .replacingOccurrences(of: "\"beep\": false", with: "\"beep\": true").utf8)
        let docB = Array(text.replacingOccurrences(of: "\"retentionDays\": 90,", with: "\"retentionDays\": 42,")
            .replacingOccurrences(of: "\"startPoint\": \"answer\"", with: "\"startPoint\": \"connect\"").utf8)
        try #require(docA != original && docB != original && docA.count != docB.count)
        try Data(docA).write(to: URL(fileURLWithPath: m.tmp.sub("a.json")))
        try Data(docB).write(to: URL(fileURLWithPath: m.tmp.sub("b.json")))
        let writers = try SettingsFS.run("/usr/bin/python3", ["-c", """
            import os, sys
            p, a, b = sys.argv[1], open(sys.argv[2], 'rb').read(), open(sys.argv[3], 'rb').read()
            fa = os.open(p, os.O_WRONLY | os.O_TRUNC)
            fb = os.open(p, os.O_WRONLY | os.O_TRUNC)
            os.pwrite(fa, a[:100], 0)
            os.pwrite(fb, b[:150], 0)
            os.pwrite(fa, a[100:], 100)
            os.pwrite(fb, b[150:], 150)
            os.close(fa)
            print('first close:', 'A' if open(p, 'rb').read() == a else 'not A')
            os.close(fb)
            print('second close:', 'B' if open(p, 'rb').read() == b else 'not B')
            """, account, m.tmp.sub("a.json"), m.tmp.sub("b.json")])
        #expect(writers.status == 0 && writers.out.contains("first close: A") && writers.out.contains("second close: B"),
                "\(writers.out); .last-error: \(m.lastError)")
        #expect(m.read("account.json") == docB, "after both closes: \(String(decoding: m.read("account.json") ?? [], as: UTF8.self))")
        let shown = try #require(try m.showJSON()["account"] as? [String: Any])
        #expect(shown["retentionDays"] as? Int == 42 && shown["beep"] as? Bool == false && shown["startPoint"] as? String == "connect", "\(shown)")
        let current = try #require(m.read("account.json"))
        let currentSha = SHA256.hex(Data(current))

        // Another user (allow_other): may read, may not write, create or remove; the reason is in their .last-error.
        let nobodyRead = try SettingsFS.bashAsNobody("sha256sum \(SettingsFS.q(account))")
        #expect(nobodyRead.status == 0 && nobodyRead.out.hasPrefix(currentSha), "\(nobodyRead)")
        let nobodyWrite = try SettingsFS.bashAsNobody(#"echo '{"account": {"retentionDays": 60}}' > "# + SettingsFS.q(account))
        #expect(nobodyWrite.status != 0 && nobodyWrite.out.contains("Permission denied"), "\(nobodyWrite)")
        let nobodyTouch = try SettingsFS.bashAsNobody("touch \(SettingsFS.q(m.path("x.tmp")))")
        #expect(nobodyTouch.status != 0 && nobodyTouch.out.contains("Permission denied"), "\(nobodyTouch)")
        let nobodyError = try SettingsFS.bashAsNobody("cat \(SettingsFS.q(m.path(".last-error")))")
        #expect(nobodyError.out.contains("only root and the mount's owner"), "nobody's .last-error: \(nobodyError)")
        #expect(!m.lastError.contains("only root"), "root's .last-error shows another user's refusal: \(m.lastError)")
        #expect(m.sha("account.json") == currentSha)
        #expect(SettingsFS.listing(m.dir) == SettingsFS.fixedListing)

        // No folders, no removing a fixed file.
        #expect(mkdir(m.path("d"), 0o755) == -1 && errno == EPERM, "mkdir: errno \(errno)")
        #expect(mkdir(m.path("flows/d"), 0o755) == -1 && errno == EPERM, "mkdir in flows: errno \(errno)")
        #expect(unlink(account) == -1 && errno == EPERM, "unlink account.json: errno \(errno)")
        let rm = try SettingsFS.bash("rm -f \(SettingsFS.q(account))")
        #expect(rm.status != 0, "\(rm)")
        #expect(m.sha("account.json") == currentSha)

        // A .json name that is no settings file: refused at create and at rename, with the reason.
        let typo = open(m.path("acount.json"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let typoErrno = errno
        if typo >= 0 { close(typo) }
        #expect(typo == -1 && typoErrno == EINVAL, "create acount.json: fd \(typo), errno \(typoErrno)")
        #expect(m.lastError.contains("acount.json"), "\(m.lastError)")
        #expect(try SettingsFS.writeAlone(m.path("x.tmp"), Array(#"{"account": {"retentionDays": 50}}"#.utf8), flags: O_WRONLY | O_CREAT | O_TRUNC) == .ok)
        #expect(rename(m.path("x.tmp"), m.path("acount.json")) == -1 && errno == EINVAL, "rename onto acount.json: errno \(errno)")
        #expect(rename(m.path("x.tmp"), m.path("flows/Bad Flow!.json")) == -1 && errno == EINVAL, "rename onto flows/Bad Flow!.json: errno \(errno)")
        #expect(unlink(m.path("x.tmp")) == 0)
        #expect(SettingsFS.listing(m.dir) == SettingsFS.fixedListing, "\(SettingsFS.listing(m.dir))")
        #expect(m.sha("account.json") == currentSha)

        // A new flow file: created with valid content it is an override; removed, it is gone.
        try m.expectApplied("flows/billing.json", #"{"enabled": true, "mode": "dual"}"#, create: true)
        #expect(SettingsFS.listing(m.path("flows")) == ["billing.json"])
        let flow = try #require(m.json("flows/billing.json"))
        #expect(flow["flow"] as? String == "billing" && flow["override"] as? Bool == true && flow["mode"] as? String == "dual", "\(flow)")
        #expect((try m.showJSON()["flows"] as? [String: Any])?["billing"] != nil)
        let nobodyRm = try SettingsFS.bashAsNobody("rm -f \(SettingsFS.q(m.path("flows/billing.json")))")
        #expect(nobodyRm.status != 0, "nobody removed a flow file: \(nobodyRm)")
        #expect(unlink(m.path("flows/billing.json")) == 0, "rm flows/billing.json: errno \(errno)")
        #expect(SettingsFS.listing(m.path("flows")).isEmpty)
        var st = stat()
        #expect(stat(m.path("flows/billing.json"), &st) == -1 && errno == ENOENT)
        #expect((try m.showJSON()["flows"] as? [String: Any])?["billing"] == nil)
    }
}
