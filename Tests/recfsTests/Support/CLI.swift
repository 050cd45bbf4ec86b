// Test support: finds the built recfs binary, runs it as a subprocess, and manages temporary stores and fixtures.

import Dispatch
import Foundation
import RecordingCore
import RecordingEngine
import Testing

/// What one run of `recfs` did.
struct CLIResult {
    let arguments: [String]
    let status: Int32
    let stdout: Data
    let stderr: Data

    var out: String { String(decoding: stdout, as: UTF8.self) }
    var err: String { String(decoding: stderr, as: UTF8.self) }
    /// Non-empty stderr lines.
    var errLines: [String] { err.split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty } }
    /// A one-line description for expectation comments.
    var summary: String { "recfs \(arguments.joined(separator: " ")) -> exit \(status)\nstdout: \(out.prefix(2000))\nstderr: \(err.prefix(2000))" }
}

struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The `recfs` executable and how to run it.
enum CLI {
    /// The binary under test: `$RECFS_TEST_BINARY`, else `recfs` in the products directory the
    /// test bundle was built into (so `swift test --scratch-path X` tests X's build), else the
    /// newest `.build*/debug/recfs` of the package.
    static let binary: URL? = locate()

    static func locate() -> URL? {
        let fm = FileManager.default
        func executable(_ url: URL) -> URL? {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue,
                  fm.isExecutableFile(atPath: url.path) else { return nil }
            return url
        }
        if let env = ProcessInfo.processInfo.environment["RECFS_TEST_BINARY"], !env.isEmpty {
            return executable(URL(fileURLWithPath: env))
        }
        // The products directory: where the test bundle (or the test runner executable) lives.
        var dirs: [URL] = []
        let bundleURL = Bundle.main.bundleURL
        dirs.append(bundleURL)
        dirs.append(bundleURL.deletingLastPathComponent())
        if let exe = Bundle.main.executableURL { dirs.append(exe.deletingLastPathComponent()) }
        for b in Bundle.allBundles where b.bundleURL.pathExtension == "xctest" {
            dirs.append(b.bundleURL.deletingLastPathComponent())
        }
        if let arg0 = CommandLine.arguments.first, arg0.contains("/") {
            let u = URL(fileURLWithPath: arg0).resolvingSymlinksInPath()
            dirs.append(u.deletingLastPathComponent())
            // macOS: .../debug/X.xctest/Contents/MacOS/X
            dirs.append(u.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent())
        }
        for d in dirs {
            if let found = executable(d.appendingPathComponent("recfs")) { return found }
        }
        // Fallback: the newest recfs under any scratch path of this package.
        let root = Fixtures.packageRoot
        var candidates: [(URL, Date)] = []
        if let entries = try? fm.contentsOfDirectory(atPath: root.path) {
            for e in entries where e.hasPrefix(".build") {
                let u = root.appendingPathComponent(e).appendingPathComponent("debug/recfs")
                if let found = executable(u),
                   let date = (try? fm.attributesOfItem(atPath: found.path))?[.modificationDate] as? Date {
                    candidates.append((found, date))
                }
            }
        }
        return candidates.max { $0.1 < $1.1 }?.0
    }

    /// Runs `recfs ARGS` with stdout and stderr captured through files (as `recfs … > out`
    /// does, so `cat` never sees a terminal), stdin from `stdin` or /dev/null, `RECFS_STORE`
    /// unset unless given in `environment`.
    @discardableResult
    static func run(_ arguments: [String], stdin: URL? = nil, environment: [String: String] = [:],
                    cwd: String? = nil, timeout: Double = 120) throws -> CLIResult {
        guard let binary else {
            throw CLIFailure("cannot find the recfs binary next to the test bundle (\(Bundle.main.bundleURL.path)); build it or set RECFS_TEST_BINARY")
        }
        let fm = FileManager.default
        let capture = fm.temporaryDirectory.appendingPathComponent("recfs-cli-\(UUID().uuidString)")
        try fm.createDirectory(at: capture, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: capture) }
        let outURL = capture.appendingPathComponent("stdout"), errURL = capture.appendingPathComponent("stderr")
        _ = fm.createFile(atPath: outURL.path, contents: nil)
        _ = fm.createFile(atPath: errURL.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        let inHandle = try stdin.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice

        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "RECFS_STORE")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.currentDirectoryURL = cwd.map { URL(fileURLWithPath: $0) } ?? capture
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = inHandle
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        if done.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = done.wait(timeout: .now() + 5)
            try? outHandle.close(); try? errHandle.close()
            throw CLIFailure("recfs \(arguments.joined(separator: " ")) did not finish within \(timeout) s")
        }
        try outHandle.close()
        try errHandle.close()
        if stdin != nil { try? inHandle.close() }
        return CLIResult(arguments: arguments, status: process.terminationStatus,
                         stdout: try Data(contentsOf: outURL), stderr: try Data(contentsOf: errURL))
    }

    /// Runs and records an issue unless the exit status is 0.
    @discardableResult
    static func ok(_ arguments: [String], stdin: URL? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> CLIResult {
        let r = try run(arguments, stdin: stdin)
        #expect(r.status == 0, "\(r.summary)", sourceLocation: sourceLocation)
        return r
    }
}

/// A temporary folder, removed by `remove()` (call it from a `defer`).
final class TempDir {
    let url: URL
    var path: String { url.path }

    init(_ label: String = "recfs-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func sub(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() {
        // Blobs are mode 0600 and folders 0700: owner-removable, so removeItem suffices.
        try? FileManager.default.removeItem(at: url)
    }
}

/// The fixtures in `fixtures/calls` and what the manifest says about them.
enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let calls = packageRoot.appendingPathComponent("fixtures/calls")
    static let settings = packageRoot.appendingPathComponent("fixtures/settings")

    static let demoAccount = "ACdemo"
    static let starterAccount = "ACstarter"

    /// Per fixtures/calls/MANIFEST.md: the ACdemo calls that have a recording an ACdemo store on
    /// the Growth plan's defaults keeps (answered, recording enabled, at least 2 s of audio).
    static let recorded: [String: (flow: String, localDate: String, format: String)] = [
        "CA5a4f7a5b568e5da8e66977530a6f9870": ("sales", "2026-11-18", "wav"),
        "CAe6fc0ee8f7446afa7c080aa5e6ee6501": ("support", "2026-11-19", "mp3"),
        "CAe0c893904726659b096dc93ff823b298": ("collections", "2026-11-20", "mp3"),
        "CA9d4de30a45103ae007164857f750f66d": ("support", "2026-11-22", "mp3"),
        "CAbda05a1c596c28408f9afad4e0717ee9": ("sales", "2026-11-24", "mp3"),  // 2026-11-23T20:00Z = 01:30 IST on the 24th
        "CA5e32b54910544a5d4eb61fcb008126ec": ("support", "2026-11-24", "wav"),
        "CAf142738ffafafed5157a1a1eff75f9ee": ("support", "2026-11-24", "wav"),
    ]
    /// ACdemo calls catalogued without a recording: unanswered (3), record false, under 2 s.
    static let unrecorded: Set<String> = [
        "CAfdc93e4f0e581fbfa16db0d72bb167b5", "CAc27d3a80fbd74fee3237e1c106ef1c97", "CA3e7b624c46e59edacd117edd4f2ac646",
        "CAf77295a0a2627353e3567e532d5d09c7", "CA5092f79312c4a125a498a4c3be10e2bb",
    ]
    /// The ACstarter call (recordingChannels dual on Starter).
    static let starterCall = "CA433cad4c198702fec2f19d6df902b53b"
    /// The dual 8 kHz WAV: 224,044 bytes, fourteen 16 KiB chunks (the last partial).
    static let dualSid = "CA5a4f7a5b568e5da8e66977530a6f9870"
    /// The 16 kHz dual WAV: 128,044 bytes, two chunks.
    static let widebandSid = "CA5e32b54910544a5d4eb61fcb008126ec"
    /// The dual call with a 2 s pause (2026-11-24T10:00Z, flow support).
    static let pausedSid = "CAf142738ffafafed5157a1a1eff75f9ee"

    /// Every call JSON, sorted (what `fixtures/calls/*.json` expands to).
    static var allCallFiles: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: calls.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { calls.appendingPathComponent($0).path }
    }

    static func callFile(_ sid: String) -> String { calls.appendingPathComponent("\(sid).json").path }

    static func callJSON(_ sid: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: callFile(sid)))
        guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw CLIFailure("\(sid).json is not an object") }
        return obj
    }

    /// The call files of the ACdemo account, read from the fixtures themselves.
    static var demoCallFiles: [String] {
        allCallFiles.filter { path in
            let sid = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            return (try? callJSON(sid))?["account"] as? String == demoAccount
        }
    }

    /// Copies every fixture leg into `dir/legs`, so a call JSON written in `dir` finds its legs.
    static func copyLegs(into dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: calls.appendingPathComponent("legs").path, toPath: dir + "/legs")
    }

    /// The recording the engine makes of call `sid` on a store with its plan's default settings
    /// (the bytes `recfs cat` must give back: the engine is deterministic). The engine's own
    /// tests check what these bytes hold.
    static func recording(_ sid: String, plan: Plan = .growth) throws -> Data {
        let (delivery, call) = try CallDelivery.read(callFile: callFile(sid))
        let effective = SettingsResolver.resolve(RecordingSettings.defaults(plan: plan, region: .apSouth1), plan: plan, call: call.request)
        let legs = try CallLegs(agent: try LegAudio.decode(wav: try #require(delivery.agentWAV), field: "legs.agent"),
                                customer: try LegAudio.decode(wav: try #require(delivery.customerWAV), field: "legs.customer"))
        guard let rendered = try RecordingEngine.render(call, legs: legs, settings: effective).recording else {
            throw CLIFailure("\(sid) has no recording")
        }
        return Data(rendered.bytes)
    }
}

/// Store set-up and inspection through the CLI.
enum StoreHelper {
    /// `recfs init` a store at `dir/store`.
    static func initStore(_ tmp: TempDir, account: String = Fixtures.demoAccount, plan: String = "growth",
                          name: String = "store", sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let store = tmp.sub(name)
        let r = try CLI.run(["init", "--store", store, "--account", account, "--plan", plan, "--region", "ap-south-1"])
        guard r.status == 0 else {
            Issue.record("init failed: \(r.summary)", sourceLocation: sourceLocation)
            throw CLIFailure("init failed")
        }
        return store
    }

    /// A Growth ACdemo store with `calls` (default: every ACdemo fixture) ingested.
    static func demoStore(_ tmp: TempDir, calls: [String]? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let store = try initStore(tmp, sourceLocation: sourceLocation)
        let files = calls?.map(Fixtures.callFile) ?? Fixtures.demoCallFiles
        let r = try CLI.run(["ingest", "--store", store] + files)
        guard r.status == 0 else {
            Issue.record("ingest failed: \(r.summary)", sourceLocation: sourceLocation)
            throw CLIFailure("ingest failed")
        }
        return store
    }

    /// `recfs ls --json` parsed.
    static func list(_ store: String, _ extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        let r = try CLI.run(["ls", "--store", store, "--json"] + extra)
        #expect(r.status == 0, "\(r.summary)", sourceLocation: sourceLocation)
        guard let rows = try JSONSerialization.jsonObject(with: r.stdout) as? [[String: Any]] else {
            throw CLIFailure("ls --json did not print an array of objects: \(r.out)")
        }
        return rows
    }

    /// `recfs ls` table rows (cells split on runs of spaces), header dropped.
    static func table(_ store: String, _ extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String]] {
        let r = try CLI.run(["ls", "--store", store] + extra)
        #expect(r.status == 0, "\(r.summary)", sourceLocation: sourceLocation)
        let lines = r.out.split(separator: "\n")
        #expect(lines.first?.hasPrefix("DATE") == true, "\(r.summary)", sourceLocation: sourceLocation)
        return lines.dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
    }

    /// `recfs cat` of a whole recording (stdout bytes), recording an issue on failure.
    static func cat(_ store: String, _ sid: String, _ extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> Data {
        let r = try CLI.run(["cat", "--store", store, sid] + extra)
        #expect(r.status == 0, "\(r.summary)", sourceLocation: sourceLocation)
        return r.stdout
    }

    /// Every regular file under `dir`, relative paths, sorted.
    static func files(under dir: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
        var out: [String] = []
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir + "/" + rel, isDirectory: &isDir), !isDir.boolValue { out.append(rel) }
        }
        return out.sorted()
    }

    static func blobFiles(_ store: String) -> [String] {
        files(under: store + "/blobs").map { store + "/blobs/" + $0 }
    }

    /// The blob of call `sid`: blobs live under REGION/ACCOUNT/YYYY/MM/DD (the call's UTC start
    /// date) and a recording of N bytes in 16 KiB chunks takes 160 + N + 16·chunks bytes.
    static func blobPath(_ store: String, sid: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let call = try Fixtures.callJSON(sid)
        guard let started = call["startedAt"] as? String, let account = call["account"] as? String else { throw CLIFailure("bad fixture \(sid)") }
        let day = started.prefix(10).replacingOccurrences(of: "-", with: "/")
        let size = try Fixtures.recording(sid).count
        let expected = Blob.size(plaintext: size)
        let dir = "\(store)/blobs/ap-south-1/\(account)/\(day)"
        let matches = files(under: dir).map { dir + "/" + $0 }.filter {
            ((try? FileManager.default.attributesOfItem(atPath: $0))?[.size] as? Int) == expected
        }
        guard matches.count == 1 else {
            Issue.record("expected one blob of \(expected) bytes in \(dir) for \(sid), found \(matches)", sourceLocation: sourceLocation)
            throw CLIFailure("blob of \(sid) not found")
        }
        return matches[0]
    }
}

/// The blob format's arithmetic, as documented in BlobHeader.swift and ChunkLayout.swift.
enum Blob {
    static let headerSize = 160
    static let chunkSize = 16384
    static let tagSize = 16
    static let sealedChunk = chunkSize + tagSize

    static func chunks(plaintext n: Int) -> Int { max(1, (n + chunkSize - 1) / chunkSize) }
    static func size(plaintext n: Int) -> Int { headerSize + n + chunks(plaintext: n) * tagSize }
    /// Byte range of chunk `i` in a blob of a recording of `plaintext` bytes.
    static func chunkRange(_ i: Int, plaintext: Int) -> Range<Int> {
        let start = headerSize + i * sealedChunk
        let length = min(chunkSize, plaintext - i * chunkSize) + tagSize
        return start..<(start + length)
    }
}

extension Data {
    /// True when `self` is a prefix of `other` (the empty output is a prefix of anything).
    func isPrefix(of other: Data) -> Bool { count <= other.count && other.prefix(count) == self }
}

/// Asserts the failure shape every refused command shares: non-zero exit and a message.
func expectFailure(_ r: CLIResult, mentioning needles: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status != 0, "expected a non-zero exit: \(r.summary)", sourceLocation: sourceLocation)
    for n in needles {
        #expect(r.err.contains(n), "stderr should name \"\(n)\": \(r.summary)", sourceLocation: sourceLocation)
    }
}
