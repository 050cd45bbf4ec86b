// MixdownTests: dual is agent left and customer right; mono holds both parties; sums saturate.

import Testing
@testable import RecordingEngine
import RecordingCore

struct MixdownTests {
    @Test func dualFixtureLeftIsTheAgentAndRightTheCustomer() throws {
        let (_, legs) = try fixture(Sid.dual)
        let legsOf = try #require(legs)
        let r = try render(Sid.dual)
        #expect(r.channelMap == ["agent", "customer"])
        let (s, channels, _) = try pcm(r.bytes)
        #expect(channels == 2)
        let left = channel(s, 0, of: 2), right = channel(s, 1, of: 2)
        let agent = legsOf.agent.samples, customer = legsOf.customer.samples
        #expect(correlation(left, agent) > 0.99)
        #expect(abs(correlation(left, customer)) < 0.2)
        #expect(correlation(right, customer) > 0.99)
        #expect(abs(correlation(right, agent)) < 0.2)
    }

    @Test func mixedMonoContainsBothParties() throws {
        let (call, legs) = try fixture(Sid.collections)
        let both = try #require(legs)
        let mono = try #require(try RecordingEngine.render(call, legs: legs, settings: settings(call) { $0.account.format = .wav }).recording)
        let (s, channels, _) = try pcm(mono.bytes)
        #expect(channels == 1 && mono.channelMap == ["mixed"])
        let agent = both.agent.samples, customer = both.customer.samples
        let ca = correlation(s, agent), cc = correlation(s, customer)
        #expect(ca > 0.3 && cc > 0.3, "the mix correlates with the agent (\(ca)) and the customer (\(cc))")
        // Where one party alone speaks, the mix is that party's audio exactly (no gain change).
        let agentOnly = (0..<s.count).filter { customer[$0] == 0 && agent[$0] != 0 }
        let customerOnly = (0..<s.count).filter { agent[$0] == 0 && customer[$0] != 0 }
        #expect(!agentOnly.isEmpty && agentOnly.allSatisfy { s[$0] == agent[$0] })
        #expect(!customerOnly.isEmpty && customerOnly.allSatisfy { s[$0] == customer[$0] })
    }

    @Test(arguments: [(Int16(30000), Int16(30000), Int16.max), (-30000, -30000, Int16.min), (32767, 1, 32767),
                      (-32768, -1, -32768), (20000, -5000, 15000), (0, 0, 0)])
    func mixingSaturatesInsteadOfWrapping(a: Int16, b: Int16, expected: Int16) {
        #expect(Mixdown.saturatingSum(a, b) == expected)
    }

    @Test func loudOverlappingSpeechClipsInTheMix() throws {
        let (call, legs) = syntheticCall(seconds: 3, agent: { _ in 30000 }, customer: { _ in 30000 })
        let r = try #require(try RecordingEngine.render(call, legs: legs, settings: settings(call) { $0.account.format = .wav }).recording)
        let (s, _, _) = try pcm(r.bytes)
        #expect(s.allSatisfy { $0 == Int16.max }, "a wrapped sum would be negative")
    }

    @Test func sixteenKilohertzDualKeepsTheRate() throws {
        let r = try render(Sid.wideband)
        let (s, channels, rate) = try pcm(r.bytes)
        #expect(channels == 2 && rate == 16000 && r.sampleRate == 16000)
        #expect(s.count == 2 * 2 * 16000)
    }
}
