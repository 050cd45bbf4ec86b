// Covers ingest idempotence and refusals: identical redelivery is "already ingested", changed redelivery and invalid call JSON are refused and store nothing.

import Foundation
import Testing

@Suite("ingest redelivery and refusals")
struct IngestRefusalTests {
    /// Everything a refused ingest must leave as it was.
    struct Snapshot: Equatable {
        let ls: Data
        let blobs: [String]
        let staging: [String]

        init(_ store: String) throws {
            let r = try CLI.run(["ls", "--store", store, "--json", "--include-expired"])
            ls = r.stdout
            blobs = StoreHelper.blobFiles(store)
            staging = StoreHelper.files(under: store + "/staging")
        }
    }

    /// A folder holding a copy of the fixture legs at the same relative paths (call `sid`'s
    /// agent leg changed by `agentLeg`), and a call JSON edited by `edit`, named `name`. Returns
    /// the JSON's path. With `edit` nil the JSON is the fixture's, byte for byte.
    static func callVariant(_ tmp: TempDir, of sid: String, name: String,
                            agentLeg: ((inout Data) -> Void)? = nil, edit: ((inout [String: Any]) -> Void)?) throws -> String {
        let dir = tmp.sub("variant-\(name)")
        var call = try Fixtures.callJSON(sid)
        try Fixtures.copyLegs(into: dir)
        if let agentLeg, let legs = call["legs"] as? [String: String], let rel = legs["agent"] {
            var bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + rel))
            agentLeg(&bytes)
            try bytes.write(to: URL(fileURLWithPath: dir + "/" + rel))
        }
        let path = dir + "/\(name).json"
        if let edit {
            edit(&call)
            try JSONSerialization.data(withJSONObject: call, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: path))
        } else {
            try FileManager.default.copyItem(atPath: Fixtures.callFile(sid), toPath: path)
        }
        return path
    }

    @Test("ingesting the same call file again says already ingested, exits 0 and stores nothing new")
    func identicalRedelivery() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp)
        let before = try Snapshot(store)
        for sid in [Fixtures.dualSid, "CAbda05a1c596c28408f9afad4e0717ee9", "CAfdc93e4f0e581fbfa16db0d72bb167b5", "CA5092f79312c4a125a498a4c3be10e2bb"] {
            let r = try CLI.run(["ingest", "--store", store, Fixtures.callFile(sid)])
            #expect(r.status == 0, "\(r.summary)")
            #expect(r.out.contains("\(sid): already ingested"), "\(r.summary)")
        }
        // The whole batch again.
        let again = try CLI.run(["ingest", "--store", store] + Fixtures.demoCallFiles)
        #expect(again.status == 0, "\(again.summary)")
        #expect(again.out.split(separator: "\n").allSatisfy { $0.contains("already ingested") }, "\(again.summary)")
        // A byte-identical copy of the JSON and its recording elsewhere is the same delivery.
        let copy = try Self.callVariant(tmp, of: Fixtures.dualSid, name: "copy", edit: nil)
        let fromCopy = try CLI.run(["ingest", "--store", store, copy])
        #expect(fromCopy.status == 0, "\(fromCopy.summary)")
        #expect(fromCopy.out.contains("already ingested"), "\(fromCopy.summary)")

        #expect(try Snapshot(store) == before, "a redelivery changed the store")
    }

    @Test("a changed call JSON or recording under an ingested callSid is refused and changes nothing")
    func changedRedelivery() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp)
        let before = try Snapshot(store)
        let sid = Fixtures.dualSid
        let variants = [
            try Self.callVariant(tmp, of: sid, name: "other-to") { $0["to"] = "+919845000099" },
            try Self.callVariant(tmp, of: sid, name: "later-end") { $0["endedAt"] = "2026-11-18T04:30:12Z" },
            try Self.callVariant(tmp, of: sid, name: "other-flow") { $0["flow"] = "support" },
            // Not a byte changed in the call's fields, but a leg is another file: refused too.
            try Self.callVariant(tmp, of: sid, name: "other-audio", agentLeg: { $0[1000] ^= 0xFF }, edit: nil),
        ]
        for v in variants {
            let r = try CLI.run(["ingest", "--store", store, v])
            expectFailure(r, mentioning: [sid])
            #expect(!r.out.contains("already ingested"), "\(r.summary)")
        }
        #expect(try Snapshot(store) == before, "a refused redelivery changed the store")
        #expect(try StoreHelper.cat(store, sid) == (try Fixtures.recording(sid)))
        let ls = try StoreHelper.list(store, ["--flow", "support"])
        #expect(!ls.contains { $0["callSid"] as? String == sid }, "the refused flow change took effect")
    }

    static let freshSid = "CAfeedfacefeedfacefeedfacefeedface"

    /// Invalid calls, each a copy of the dual call under a fresh sid with one problem, and the
    /// field the refusal must name.
    static let invalid: [(String, String, @Sendable (inout [String: Any]) -> Void)] = [
        ("flow-dotdot", "flow", { $0["callSid"] = freshSid; $0["flow"] = "../x" }),
        ("flow-slash", "flow", { $0["callSid"] = freshSid; $0["flow"] = "sales/x" }),
        ("flow-empty", "flow", { $0["callSid"] = freshSid; $0["flow"] = "" }),
        ("no-callSid", "callSid", { $0.removeValue(forKey: "callSid") }),
        ("callSid-dotdot", "callSid", { $0["callSid"] = "../CAx" }),
        ("callSid-number", "callSid", { $0["callSid"] = 42 }),
        ("legs-dotdot", "legs.agent", { $0["callSid"] = freshSid; $0["legs"] = ["agent": "../legs/\(Fixtures.dualSid)-agent.wav", "customer": "legs/\(Fixtures.dualSid)-customer.wav"] }),
        ("legs-absolute", "legs.customer", { $0["callSid"] = freshSid; $0["legs"] = ["agent": "legs/\(Fixtures.dualSid)-agent.wav", "customer": Fixtures.calls.path + "/legs/\(Fixtures.dualSid)-customer.wav"] }),
        ("legs-missing", "legs.agent", { $0["callSid"] = freshSid; $0["legs"] = ["agent": "legs/nothing-here.wav", "customer": "legs/\(Fixtures.dualSid)-customer.wav"] }),
        ("legs-absent", "legs", { $0["callSid"] = freshSid; $0.removeValue(forKey: "legs") }),
        ("legs-rates-differ", "legs", { $0["callSid"] = freshSid; $0["legs"] = ["agent": "legs/\(Fixtures.dualSid)-agent.wav", "customer": "legs/\(Fixtures.widebandSid)-customer.wav"] }),
        ("legs-not-wav", "legs.customer", { $0["callSid"] = freshSid; $0["legs"] = ["agent": "legs/\(Fixtures.dualSid)-agent.wav", "customer": "../\(Fixtures.dualSid).json"] }),
        ("legs-not-audio", "legs.customer", { $0["callSid"] = freshSid; $0["legs"] = ["agent": "legs/\(Fixtures.dualSid)-agent.wav", "customer": "\(Fixtures.dualSid).json"] }),
        ("recording-field", "recording", { $0["callSid"] = freshSid; $0["recording"] = "recordings/\(Fixtures.dualSid).wav" }),
        ("times-out-of-order", "connectedAt", { $0["callSid"] = freshSid; $0["connectedAt"] = "2026-11-18T04:30:01Z" }),
        ("unknown-field", "colour", { $0["callSid"] = freshSid; $0["colour"] = "red" }),
        ("ended-before-start", "endedAt", { $0["callSid"] = freshSid; $0["endedAt"] = "2026-11-18T04:00:00Z" }),
        ("bad-time", "startedAt", { $0["callSid"] = freshSid; $0["startedAt"] = "yesterday" }),
        ("no-direction", "direction", { $0["callSid"] = freshSid; $0.removeValue(forKey: "direction") }),
        ("other-account", "account", { $0["callSid"] = freshSid; $0["account"] = "ACother" }),
    ]

    @Test("an invalid call JSON is refused naming the field, and nothing is stored",
          arguments: 0..<IngestRefusalTests.invalid.count)
    func invalidCall(_ i: Int) throws {
        let (name, field, edit) = Self.invalid[i]
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp, calls: [Fixtures.widebandSid])
        let before = try Snapshot(store)
        let file = try Self.callVariant(tmp, of: Fixtures.dualSid, name: name, edit: edit)

        let r = try CLI.run(["ingest", "--store", store, file])
        expectFailure(r, mentioning: [field, file])
        #expect(r.errLines.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\(field):") }, "\(name): a line naming \(field): \(r.summary)")
        #expect(r.stdout.isEmpty, "\(name): \(r.summary)")

        #expect(try Snapshot(store) == before, "\(name): a refused call changed the store")
        let cat = try CLI.run(["cat", "--store", store, Self.freshSid])
        expectFailure(cat, mentioning: ["no call \(Self.freshSid)"])
        let fsck = try CLI.run(["fsck", "--store", store])
        #expect(fsck.status == 0, "\(name): \(fsck.summary)")
    }

    @Test("a call JSON that is not JSON, or not an object, is refused")
    func notACall() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp, calls: [Fixtures.widebandSid])
        let before = try Snapshot(store)
        for (name, text) in [("truncated", #"{"account": "ACdemo", "callSid": "#), ("array", "[]"), ("empty", "")] {
            let file = tmp.sub("\(name).json")
            try text.write(toFile: file, atomically: false, encoding: .utf8)
            let r = try CLI.run(["ingest", "--store", store, file])
            expectFailure(r, mentioning: [file])
        }
        let missing = try CLI.run(["ingest", "--store", store, tmp.sub("no-such-call.json")])
        expectFailure(missing, mentioning: ["no-such-call.json"])
        #expect(try Snapshot(store) == before)
    }

    @Test("concurrent deliveries of the same calls store each once, all exit 0, and leave no orphan")
    func concurrentDeliveries() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.initStore(tmp)
        let files = [Fixtures.callFile(Fixtures.dualSid), Fixtures.callFile(Fixtures.widebandSid)]
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var items: [Result<CLIResult, any Error>] = []
            func add(_ r: Result<CLIResult, any Error>) { lock.lock(); items.append(r); lock.unlock() }
        }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            results.add(Result { try CLI.run(["ingest", "--store", store] + files) })
        }
        var recorded = 0
        for item in results.items {
            let r = try item.get()
            #expect(r.status == 0, "\(r.summary)")
            recorded += r.out.split(separator: "\n").filter { $0.contains(": recorded:") }.count
        }
        #expect(recorded == 2, "each call recorded once across all deliveries")
        #expect(StoreHelper.blobFiles(store).count == 2)
        #expect(StoreHelper.files(under: store + "/staging").isEmpty)
        let fsck = try CLI.run(["fsck", "--store", store])
        #expect(fsck.status == 0, "\(fsck.summary)")
        #expect(try StoreHelper.cat(store, Fixtures.dualSid) == (try Fixtures.recording(Fixtures.dualSid)))
    }
}
