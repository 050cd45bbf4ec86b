// FileSystemTests: the filesystem core's handlers, called directly (no kernel, no mount).

import Foundation
import Glibc
import RecordingCore
import RecordingEngine
import Testing
@testable import RecordingFS
@testable import RecordingStore

/// A store with every fixture call of account ACdemo ingested, at a fixed time.
final class FixtureStore {
    let folder: String
    let store: Store
    let fs: RecordingFileSystem
    /// 2026-11-24T12:00:00Z.
    static let now: Int64 = 1_795_521_600_000

    init(now: Int64 = FixtureStore.now) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("recfs-fs-\(UUID().uuidString)").path
        let clock: @Sendable () -> Int64 = { now }
        store = try Store.create(at: folder + "/store", accountSid: "ACdemo", plan: .growth, region: .apSouth1, actor: "test", clock: clock)
        let calls = FixtureStore.fixtures + "/calls"
        for name in try FileManager.default.contentsOfDirectory(atPath: calls).sorted() where name.hasSuffix(".json") {
            let path = calls + "/" + name
            guard try String(contentsOfFile: path, encoding: .utf8).contains("\"ACdemo\"") else { continue }
            _ = try RecordingEngine.ingest(callFile: path, into: store, actor: "test")
        }
        fs = try RecordingFileSystem(store: store)
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures").path

    /// Every recording's bytes as the store decrypts them.
    func plaintext(_ r: RecordingRow) throws -> [UInt8] {
        var out: [UInt8] = []
        try store.read(r) { out += $0 }
        return out
    }

    /// Reads a whole file through the handlers.
    func readFile(_ inode: UInt64, chunk: Int = 100_000) throws -> [UInt8] {
        let h = try fs.open(inode, flags: O_RDONLY)
        defer { fs.release(h) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try fs.read(h, offset: Int64(out.count), into: $0) }
            if n == 0 { return out }
            out += buffer[0..<n]
        }
    }

    /// The root's date folders (the recording tree, without `.settings`).
    func days() throws -> [DirectoryEntry] {
        try fs.list(1).filter { $0.name != ".settings" }
    }

    func path(_ components: [String]) throws -> UInt64 {
        var inode: UInt64 = 1
        for c in components { inode = try fs.lookup(parent: inode, name: c).inode }
        return inode
    }
}

@Suite struct FileSystemTests {
    @Test func treeFollowsDateFlowCall() throws {
        let f = try FixtureStore()
        let days = try f.days().map(\.name)
        #expect(days == days.sorted())
        // 2026-11-23T20:00Z is 2026-11-24 in Asia/Kolkata.
        #expect(days.contains("2026-11-24"))
        var recordings = 0
        for day in try f.days() {
            #expect(day.attributes.isDirectory)
            for flow in try f.fs.list(day.attributes.inode) {
                let calls = try f.fs.list(flow.attributes.inode)
                #expect(flow.attributes.links == UInt32(2 + calls.count))
                for call in calls {
                    let r = try #require(try f.store.liveRecording(callSid: call.name, now: FixtureStore.now))
                    #expect(r.flow == flow.name)
                    let names = try f.fs.list(call.attributes.inode).map(\.name)
                    let expected = r.channels == 2 ? [r.fileName, "agent.wav", "customer.wav", "call.json"] : [r.fileName, "call.json"]
                    #expect(names == expected)
                    recordings += 1
                }
            }
        }
        #expect(recordings == (try f.store.recordings(RecordingQuery(includeExpired: false)).count))
    }

    @Test func filesReadBackAsTheStoreDecryptsThem() throws {
        let f = try FixtureStore()
        for r in try f.store.recordings(RecordingQuery()) {
            let dir = try f.fs.lookup(parent: try f.path([f.fs.dates.date(of: Timestamp(milliseconds: r.callStartedAt)), r.flow]), name: r.callSid)
            let file = try f.fs.lookup(parent: dir.inode, name: r.fileName)
            #expect(file.size == r.plaintextSize)
            #expect(file.mtime == r.callStartedAt)
            #expect(try f.readFile(file.inode) == (try f.plaintext(r)))
            #expect(try f.readFile(file.inode, chunk: 4096) == (try f.plaintext(r)))
            // getattr agrees with lookup, from the catalog alone.
            #expect(try f.fs.getattr(file.inode) == file)
        }
    }

    @Test func channelFilesDeinterleaveTheRecording() throws {
        let f = try FixtureStore()
        let dual = try f.store.recordings(RecordingQuery()).filter { $0.channels == 2 }
        #expect(!dual.isEmpty)
        for r in dual {
            let stereo = try f.plaintext(r)
            let call = Node.call(r.number!).inode
            let agent = try f.readFile(try f.fs.lookup(parent: call, name: "agent.wav").inode)
            let customer = try f.readFile(try f.fs.lookup(parent: call, name: "customer.wav").inode)
            #expect(agent.count == 44 + (stereo.count - 44) / 2)
            for i in stride(from: 0, to: (stereo.count - 44) / 4, by: 1) {
                guard agent[44 + 2 * i] == stereo[44 + 4 * i], customer[44 + 2 * i] == stereo[46 + 4 * i] else {
                    Issue.record("sample \(i) of \(r.callSid) differs")
                    break
                }
            }
            #expect(try f.fs.getattr(try f.fs.lookup(parent: call, name: "agent.wav").inode).size == Int64(agent.count))
        }
    }

    @Test func callDocumentDescribesTheCall() throws {
        let f = try FixtureStore()
        let r = try #require(try f.store.recordings(RecordingQuery()).first)
        let file = try f.fs.lookup(parent: Node.call(r.number!).inode, name: "call.json")
        let bytes = try f.readFile(file.inode)
        #expect(Int64(bytes.count) == file.size)
        let doc = try JSONValue.parse(bytes)
        #expect(doc["callSid"] == .string(r.callSid))
        #expect(doc["recording"]?["sha256"] == .string(r.sha256))
        #expect(doc["retention"]?["expiresAt"] == .string(Timestamp(milliseconds: r.expiresAt).description))
        // Same bytes every time (rsync relies on it).
        #expect(try f.readFile(file.inode) == bytes)
    }

    @Test func aKeyRotationRedatesEveryCallJSONAndTellsTheTreeToForget() throws {
        let f = try FixtureStore()
        let rows = try f.store.recordings(RecordingQuery())
        let forgotten = Box()
        f.fs.forget = { days, _, _ in forgotten.set(days) }
        var before: [Int64: [UInt8]] = [:]
        for r in rows {
            let file = try f.fs.lookup(parent: Node.call(r.number!).inode, name: "call.json")
            #expect(file.mtime == r.callStartedAt)
            before[r.number!] = try f.readFile(file.inode)
        }
        let days = try f.days().map(\.name)
        f.fs.settingsMayHaveChanged()
        #expect(forgotten.get() == nil, "nothing changed yet")

        let rotation = try f.store.rotateKeys(actor: "test")
        f.fs.settingsMayHaveChanged()
        #expect(Set(forgotten.get() ?? []) == Set(days), "the kernel forgets the date folders it was shown")
        for r in rows {
            let file = try f.fs.lookup(parent: Node.call(r.number!).inode, name: "call.json")
            #expect(file.mtime == FixtureStore.now, "call.json is dated by the rotation")
            let bytes = try f.readFile(file.inode)
            #expect(Int64(bytes.count) == file.size && bytes.count == before[r.number!]?.count)
            #expect(String(decoding: bytes, as: UTF8.self).contains(rotation.newKeyId))
            // The audio files keep the call's start.
            #expect(try f.fs.lookup(parent: Node.call(r.number!).inode, name: "recording.\(r.format)").mtime == r.callStartedAt)
        }
    }

    @Test func extendedAttributesDescribeTheRecording() throws {
        let f = try FixtureStore()
        let r = try #require(try f.store.recordings(RecordingQuery()).first { $0.channels == 2 })
        let inode = Node.file(r.number!, .recording).inode
        #expect(try f.fs.getxattr(inode, name: "user.recfs.sha256") == Array(r.sha256.utf8))
        #expect(try f.fs.getxattr(inode, name: "user.recfs.call_sid") == Array(r.callSid.utf8))
        #expect(try f.fs.listxattr(inode).contains("user.recfs.channel_map"))
        #expect(throws: FSError.noAttribute) { _ = try f.fs.getxattr(inode, name: "user.other") }
        // No security labels, no ACLs: "not supported", so ls -l stops asking for each file.
        for name in ["security.selinux", "system.posix_acl_access", "system.posix_acl_default", "trusted.x"] {
            #expect(throws: FSError.notSupported) { _ = try f.fs.getxattr(inode, name: name) }
        }
    }

    @Test func writingIsRefused() throws {
        let f = try FixtureStore()
        let r = try #require(try f.store.recordings(RecordingQuery()).first)
        let inode = Node.file(r.number!, .recording).inode
        for flags in [O_WRONLY, O_RDWR, O_RDONLY | O_TRUNC, O_WRONLY | O_APPEND] {
            #expect(throws: FSError.readOnly) { _ = try f.fs.open(inode, flags: flags) }
        }
        #expect(f.fs.openHandles == 0)
    }

    @Test func unknownNamesAndNumbersAreNotFound() throws {
        let f = try FixtureStore()
        #expect(throws: FSError.noEntry) { _ = try f.fs.lookup(parent: 1, name: "2020-01-01") }
        #expect(throws: FSError.noEntry) { _ = try f.fs.lookup(parent: 1, name: "not-a-date") }
        #expect(throws: FSError.noEntry) { _ = try f.fs.lookup(parent: 1, name: "2026-11-24x") }
        #expect(throws: FSError.noEntry) { _ = try f.fs.getattr(Node.call(999_999).inode) }
        #expect(throws: FSError.noEntry) { _ = try f.fs.getattr(12345) }
        let day = try f.days()[0]
        #expect(throws: FSError.noEntry) { _ = try f.fs.lookup(parent: day.attributes.inode, name: "no-such-flow") }
        let r = try #require(try f.store.recordings(RecordingQuery()).first { $0.channels == 1 })
        #expect(throws: FSError.noEntry) { _ = try f.fs.lookup(parent: Node.call(r.number!).inode, name: "agent.wav") }
        // A call sid is found only under its own date and flow.
        let other = try #require(try f.store.recordings(RecordingQuery()).first { $0.flow != r.flow })
        let flowDir = try f.path([f.fs.dates.date(of: Timestamp(milliseconds: other.callStartedAt)), other.flow])
        #expect(throws: FSError.noEntry) { _ = try f.fs.lookup(parent: flowDir, name: r.callSid) }
    }

    @Test func expiredRecordingsAreHiddenFromTheirExpiryOn() throws {
        let f = try FixtureStore()
        let rows = try f.store.recordings(RecordingQuery())
        let first = try #require(rows.min { $0.expiresAt < $1.expiresAt })
        // The same store seen at the first expiry instant, and a millisecond before it.
        let before = try RecordingFileSystem(store: try Store.open(at: f.store.root, clock: { first.expiresAt - 1 }))
        let at = try RecordingFileSystem(store: try Store.open(at: f.store.root, clock: { first.expiresAt }))
        let call = Node.call(first.number!).inode
        #expect(try before.getattr(call).isDirectory)
        #expect(try before.getattr(call).timeout <= 0.001)
        #expect(throws: FSError.noEntry) { _ = try at.getattr(call) }
        #expect(throws: FSError.noEntry) { _ = try at.getattr(Node.file(first.number!, .recording).inode) }
        let dayName = at.dates.date(of: Timestamp(milliseconds: first.callStartedAt))
        let listed = try at.list(1).map(\.name).contains(dayName)
            ? try at.list(try at.lookup(parent: 1, name: dayName).inode).flatMap { try at.list($0.attributes.inode).map(\.name) }
            : []
        #expect(!listed.contains(first.callSid))
    }

    @Test func foldersListedBeforeAnExpiryStopShowingTheRecordingAtTheInstant() throws {
        let f = try FixtureStore()
        let rows = try f.store.recordings(RecordingQuery())
        let first = try #require(rows.min { $0.expiresAt < $1.expiresAt })
        final class Clock: @unchecked Sendable { var now: Int64 = 0 }
        let clock = Clock()
        clock.now = first.expiresAt - 1
        let fs = try RecordingFileSystem(store: try Store.open(at: f.store.root, clock: { clock.now }))
        let dayName = fs.dates.date(of: Timestamp(milliseconds: first.callStartedAt))
        let day = try fs.lookup(parent: 1, name: dayName).inode
        func flowEntry() throws -> DirectoryEntry? { try fs.list(day).first { $0.name == first.flow } }
        let flow = try #require(try flowEntry())
        // A walk: the flow folder, then the call folder (now answered from what the listing kept).
        #expect(try fs.list(flow.attributes.inode).map(\.name).contains(first.callSid))
        let call = Node.call(first.number!).inode
        #expect(try fs.list(call).map(\.name).contains("call.json"))
        #expect(try fs.lookup(parent: call, name: "call.json").size > 0)
        clock.now = first.expiresAt
        #expect(throws: FSError.noEntry) { _ = try fs.getattr(call) }
        #expect(throws: FSError.noEntry) { _ = try fs.list(call) }
        #expect(throws: FSError.noEntry) { _ = try fs.lookup(parent: call, name: "call.json") }
        #expect(throws: FSError.noEntry) { _ = try fs.getattr(Node.file(first.number!, .recording).inode) }
        #expect(throws: FSError.noEntry) { _ = try fs.lookup(parent: flow.attributes.inode, name: first.callSid) }
        #expect(try fs.readdir(flow.attributes.inode, offset: 0).map(\.name).contains(first.callSid) == false)
        // The date's count of the flow's calls follows at the same instant.
        if let after = try flowEntry() {
            #expect(after.attributes.links == flow.attributes.links - 1)
        } else {
            #expect(flow.attributes.links == 3)
        }
    }

    @Test func flowsListedAheadOfAWalkMatchTheirFreshListings() throws {
        let f = try FixtureStore()
        let fs = try RecordingFileSystem(store: try Store.open(at: f.store.root, clock: { FixtureStore.now }))
        final class Jobs: @unchecked Sendable { var count = 0 }
        let jobs = Jobs()
        fs.background = { job in
            jobs.count += 1
            job()
        }
        var walked = 0
        for day in try f.days() {
            for flow in Array(try fs.readdir(day.attributes.inode, offset: 0)) {
                let inode = flow.attributes.inode
                // Listed when the walk listed the date or the flow before.
                #expect(fs.ahead.holds(inode), "\(day.name)/\(flow.name)")
                let listed = Array(try fs.readdir(inode, offset: 0))
                #expect(!fs.ahead.holds(inode))
                let fresh = try f.fs.list(inode)
                #expect(listed.map(\.name) == fresh.map(\.name))
                #expect(listed.map(\.attributes) == fresh.map(\.attributes))
                walked += 1
            }
        }
        #expect(walked > 1)
        #expect(jobs.count >= walked)
    }

    @Test func aFlowListedAheadIsNotShownPastItsFirstExpiry() throws {
        let f = try FixtureStore()
        let first = try #require(try f.store.recordings(RecordingQuery()).min { $0.expiresAt < $1.expiresAt })
        final class Clock: @unchecked Sendable { var now: Int64 = 0 }
        let clock = Clock()
        clock.now = first.expiresAt - 1
        let fs = try RecordingFileSystem(store: try Store.open(at: f.store.root, clock: { clock.now }))
        fs.background = { job in job() }
        let day = try fs.lookup(parent: 1, name: fs.dates.date(of: Timestamp(milliseconds: first.callStartedAt))).inode
        // Walk the date up to the recording's flow: that flow is then listed ahead, with it.
        for flow in Array(try fs.readdir(day, offset: 0)) {
            if flow.name == first.flow {
                #expect(fs.ahead.holds(flow.attributes.inode))
                clock.now = first.expiresAt
                #expect(!(try fs.readdir(flow.attributes.inode, offset: 0)).map(\.name).contains(first.callSid))
                return
            }
            _ = try fs.readdir(flow.attributes.inode, offset: 0)
        }
        Issue.record("flow \(first.flow) not listed")
    }

    @Test func integrityFailureIsEIOAndAudited() throws {
        let f = try FixtureStore()
        let r = try #require(try f.store.recordings(RecordingQuery()).first { $0.plaintextSize > 100_000 })
        let blob = f.store.root + "/blobs/" + r.region + "/" + r.blobKey
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: blob)))
        bytes[160 + 70_000] ^= 1   // inside chunk 1
        try Data(bytes).write(to: URL(fileURLWithPath: blob))
        let h = try f.fs.open(Node.file(r.number!, .recording).inode, flags: O_RDONLY)
        defer { f.fs.release(h) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        // Chunk 0 still reads; chunk 1 does not.
        #expect(try buffer.withUnsafeMutableBytes { try f.fs.read(h, offset: 0, into: $0) } == 4096)
        #expect(throws: FSError.io) { _ = try buffer.withUnsafeMutableBytes { try f.fs.read(h, offset: 66_000, into: $0) } }
        #expect(try f.store.auditEvents(subject: r.callSid).contains { $0.action == "recording.integrity-failure" })
    }

    @Test func inodesAreStableAcrossReopening() throws {
        let f = try FixtureStore()
        func inodes(_ fs: RecordingFileSystem) throws -> [String: UInt64] {
            var out: [String: UInt64] = [:]
            func walk(_ inode: UInt64, _ path: String) throws {
                for e in try fs.list(inode) {
                    out[path + "/" + e.name] = e.attributes.inode
                    if e.attributes.isDirectory { try walk(e.attributes.inode, path + "/" + e.name) }
                }
            }
            try walk(1, "")
            return out
        }
        let first = try inodes(f.fs)
        let again = try inodes(try RecordingFileSystem(store: try Store.open(at: f.store.root, clock: { FixtureStore.now })))
        #expect(first == again)
        #expect(Set(first.values).count == first.count)
    }
}
