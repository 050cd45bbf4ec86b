// IngestTests: the engine and the store together: what is catalogued, idempotent re-delivery
// over the JSON and both legs, refusals that store nothing.

import Foundation
import RecordingCore
import RecordingStore
import Testing
@testable import RecordingEngine

struct IngestTests {
    func store(_ tmp: Scratch, plan: Plan = .growth, account: String = "ACdemo") throws -> Store {
        try Store.create(at: tmp.path + "/store", accountSid: account, plan: plan, region: .apSouth1, actor: "test")
    }

    func readAll(_ store: Store, _ row: RecordingRow) throws -> [UInt8] {
        var out: [UInt8] = []
        try store.read(row) { out += $0 }
        return out
    }

    @Test func fixturesAreRecordedAsTheSettingsSayAndReadBackExactly() throws {
        let tmp = Scratch()
        let s = try store(tmp)
        let files = try FileManager.default.contentsOfDirectory(atPath: fixtureCalls).filter { $0.hasSuffix(".json") }.sorted()
        var recorded = 0
        for name in files {
            let sid = String(name.dropLast(5))
            let (call, _) = try fixture(sid)
            guard call.account == "ACdemo" else { continue }
            let result = try RecordingEngine.ingest(callFile: fixtureCalls + "/" + name, into: s, actor: "test")
            let decision = try JSONValue.parse(Array(result.call.effectiveSettings.utf8))
            if let row = result.recording {
                recorded += 1
                let expected = try render(sid)
                #expect(try readAll(s, row) == expected.bytes, "\(sid)")
                #expect(row.durationMs == expected.durationMilliseconds && row.format == expected.format.rawValue)
                #expect(row.channelMap == (expected.channels == 2 ? #"["agent","customer"]"# : #"["mixed"]"#))
                #expect(decision["recording"]?["made"] == .bool(true))
                #expect(decision["recording"]?["legs"]?["agent"]?["sampleRate"] != nil)
            } else {
                #expect(result.call.noRecordingReason != nil)
                #expect(decision["recording"]?["made"] == .bool(false))
            }
        }
        #expect(recorded == 7)
        #expect(try s.fsck(repair: false).isClean)
    }

    @Test func identicalRedeliveryReturnsTheRecordingAndChangedLegsAreRefused() throws {
        let tmp = Scratch()
        let s = try store(tmp)
        let file = fixtureCalls + "/\(Sid.dual).json"
        let first = try RecordingEngine.ingest(callFile: file, into: s, actor: "test")
        let again = try RecordingEngine.ingest(callFile: file, into: s, actor: "test")
        #expect(again.alreadyIngested && again.recording?.id == first.recording?.id)

        // The same JSON beside a customer leg with one byte changed: another delivery.
        try FileManager.default.copyItem(atPath: fixtureCalls + "/legs", toPath: tmp.path + "/legs")
        try FileManager.default.copyItem(atPath: file, toPath: tmp.path + "/call.json")
        let leg = tmp.path + "/legs/\(Sid.dual)-customer.wav"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: leg))
        bytes[5000] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: leg))
        let error = #expect(throws: StoreError.self) { _ = try RecordingEngine.ingest(callFile: tmp.path + "/call.json", into: s, actor: "test") }
        #expect(error?.description.contains("different inputs") == true)
        #expect(try s.recordings(RecordingQuery(includeExpired: true)).count == 1)
    }

    @Test func badLegsAreRefusedAndNothingIsStored() throws {
        let tmp = Scratch()
        let s = try store(tmp)
        try FileManager.default.createDirectory(atPath: tmp.path + "/legs", withIntermediateDirectories: true)
        let stereo = WAVEncoder.encode(PCMAudio(samples: [Int16](repeating: 1, count: 16000), channels: 2, sampleRate: 8000))
        let mono22k = WAVEncoder.header(channels: 1, sampleRate: 22050, dataSize: 4) + [0, 0, 0, 0]
        let ok = WAVEncoder.encode(PCMAudio(samples: [Int16](repeating: 1, count: 32000), channels: 1, sampleRate: 8000))
        _ = try tmp.write("legs/stereo.wav", stereo)
        _ = try tmp.write("legs/22k.wav", mono22k)
        _ = try tmp.write("legs/ok.wav", ok)
        _ = try tmp.write("legs/text.wav", Array("hello".utf8))
        let cases = [("stereo.wav", "legs.agent", "mono"), ("22k.wav", "legs.agent", "22050 Hz"), ("text.wav", "legs.agent", "not a WAV"),
                     ("absent.wav", "legs.agent", "cannot read")]
        for (agent, path, words) in cases {
            let json = #"{"account": "ACdemo", "callSid": "CAbadlegs", "flow": "sales", "from": "+1", "to": "+2", "direction": "inbound", "outcome": "completed", "startedAt": "2026-11-24T10:00:00Z", "answeredAt": "2026-11-24T10:00:01Z", "endedAt": "2026-11-24T10:00:05Z", "legs": {"agent": "legs/\#(agent)", "customer": "legs/ok.wav"}}"#
            let file = try tmp.write("call.json", Array(json.utf8))
            let error = #expect(throws: InvalidDocument.self) { _ = try RecordingEngine.ingest(callFile: file, into: s, actor: "test") }
            #expect(error?.violations.first?.path == path, "\(agent)")
            #expect(error?.violations.first?.reason.contains(words) == true, "\(agent): \(error?.description ?? "")")
        }
        #expect(try s.fsck(repair: false).isClean)
        #expect(throws: StoreError.self) { _ = try s.call("CAbadlegs") }
    }
}
