// SyntheticCallsTests: `recfs gen`'s calls are deterministic for a seed, valid, and varied.

import Foundation
import RecordingCore
import RecordingStore
import Testing
@testable import RecordingEngine

struct SyntheticCallsTests {
    static let bank = try? SpeechBank.load(calls: fixtureCalls)
    static let from = Timestamp(rfc3339: "2026-11-20T00:00:00+05:30")!, until = Timestamp(rfc3339: "2026-11-25T00:00:00+05:30")!

    func generator(seed: UInt64, max: Int = 120) throws -> SyntheticCalls {
        SyntheticCalls(account: "ACgen", seed: seed, speech: try #require(Self.bank), from: Self.from, until: Self.until, maxDurationSeconds: max)
    }

    @Test func speechComesFromBothParties() throws {
        let bank = try #require(Self.bank)
        #expect(bank.agent.count >= 10 && bank.customer.count >= 8)
        #expect(bank.agent.allSatisfy { $0.count > 800 && $0.contains { $0 != 0 } })
    }

    @Test func sameSeedSameCallsOtherSeedOtherCalls() throws {
        let a = try generator(seed: 42), b = try generator(seed: 42), c = try generator(seed: 43)
        for i in [0, 1, 7, 30] {
            let (da, ca) = a.call(i), (db, cb) = b.call(i), (dc, cc) = c.call(i)
            #expect(ca == cb && da.digest == db.digest)
            #expect(ca.callSid != cc.callSid)
            #expect(da.digest != dc.digest)
        }
    }

    @Test func callsAreValidVariedAndInTheirWindow() throws {
        let g = try generator(seed: 7, max: 60)
        var flows = Set<String>(), outcomes = Set<String>(), channels = Set<String>(), rates = Set<Int>(), sids = Set<String>()
        var connected = 0
        for i in 0..<200 {
            let (delivery, call) = g.call(i)
            #expect(try CallDescription.decode(delivery.json) == call, "the JSON says what the call is")
            sids.insert(call.callSid)
            flows.insert(call.flow)
            outcomes.insert(call.outcome)
            channels.insert(call.recordingChannels?.rawValue ?? "-")
            #expect(call.startedAt >= Self.from && call.startedAt < Self.until)
            if let answered = call.answeredAt {
                let seconds = Double(call.endedAt.milliseconds - answered.milliseconds) / 1000
                #expect(seconds >= 5 && seconds <= 60.01, "\(seconds) s")
                let agent = try LegAudio.decode(wav: try #require(delivery.agentWAV), field: "legs.agent")
                rates.insert(agent.sampleRate)
                #expect(abs(agent.durationMilliseconds - Int64(seconds * 1000)) <= 1)
                #expect(agent.samples.contains { $0 != 0 })
                if call.connectedAt != nil { connected += 1 }
            } else {
                #expect(delivery.agentWAV == nil)
            }
        }
        #expect(sids.count == 200)
        #expect(flows.count >= 4 && outcomes.isSuperset(of: ["completed", "busy", "no-answer"]) && channels.count >= 3)
        #expect(rates == [8000, 16000] && connected > 20)
    }

    @Test func generatedCallsGoThroughTheEngine() throws {
        let g = try generator(seed: 3, max: 30)
        var made = Set<String>()
        for i in 0..<30 {
            let (delivery, call) = g.call(i)
            var legs: CallLegs?
            if let a = delivery.agentWAV, let c = delivery.customerWAV {
                legs = try CallLegs(agent: try LegAudio.decode(wav: a, field: "legs.agent"), customer: try LegAudio.decode(wav: c, field: "legs.customer"))
            }
            let d = try RecordingEngine.render(call, legs: legs, settings: settings(call))
            if let r = d.recording { made.insert("\(r.mode.rawValue) \(r.format.rawValue)") }
        }
        #expect(made == ["dual wav", "single mp3"])
    }
}
