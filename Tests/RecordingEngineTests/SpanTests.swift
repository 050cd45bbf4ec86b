// SpanTests: start point, opt-out, pauses and the 2 s rule, on fixture and synthetic calls.

import Foundation
import RecordingCore
import RecordingStore
import Testing
@testable import RecordingEngine

/// The recording's duration from its bytes: WAV frames, or MP3 frames less encoder delay and padding.
func probedMilliseconds(_ r: RenderedRecording) throws -> Int64 {
    try AudioProbe.probe(r.bytes, fileSize: r.bytes.count).durationMilliseconds
}

struct StartPointTests {
    @Test(arguments: [AudioFormat.wav, .mp3])
    func answerRecordsFromAnswerAndConnectFromConnect(format: AudioFormat) throws {
        let (call, _) = try fixture(Sid.support)
        let answered = try #require(call.answeredAt), connected = try #require(call.connectedAt)
        let fromAnswer = try render(Sid.support) { $0.account.format = format; $0.account.startPoint = .answer }
        let fromConnect = try render(Sid.support) { $0.account.format = format; $0.account.startPoint = .connect }
        let wantAnswer = call.endedAt.milliseconds - answered.milliseconds
        let wantConnect = call.endedAt.milliseconds - connected.milliseconds
        #expect(wantAnswer != wantConnect)
        let gotAnswer = try probedMilliseconds(fromAnswer), gotConnect = try probedMilliseconds(fromConnect)
        #expect(abs(gotAnswer - wantAnswer) <= 20, "answer: \(gotAnswer) ms, want \(wantAnswer)")
        #expect(abs(gotConnect - wantConnect) <= 20, "connect: \(gotConnect) ms, want \(wantConnect)")
        #expect(fromAnswer.recordedFrom == answered && fromConnect.recordedFrom == connected)
    }

    @Test func connectDropsTheIVRSamples() throws {
        let (call, legs) = try fixture(Sid.dual)
        let agent = try #require(legs).agent.samples
        let offset = Int(try #require(call.connectedAt).milliseconds - call.answeredAt!.milliseconds) * 8
        let r = try render(Sid.dual) { $0.account.startPoint = .connect }
        let left = channel(try pcm(r.bytes).samples, 0, of: 2)
        #expect(left == Array(agent[offset...]))
    }

    @Test func connectWithoutConnectedAtRecordsFromAnswer() throws {
        let (call, legs) = syntheticCall(seconds: 4)
        let decision = try RecordingEngine.render(call, legs: legs, settings: settings(call) { $0.account.startPoint = .connect; $0.account.format = .wav })
        #expect(try probedMilliseconds(try #require(decision.recording)) == 4000)
        #expect(decision.decision["recording"]?["fromReason"].map { "\($0)" }?.contains("no connectedAt") == true)
    }
}

struct OptOutTests {
    @Test func nothingAfterOptOutIsKept() throws {
        let (call, legs) = try fixture(Sid.optOut)
        let optOut = try #require(call.optOutAt)
        let r = try render(Sid.optOut) { $0.account.format = .wav }
        let want = optOut.milliseconds - call.answeredAt!.milliseconds
        #expect(try probedMilliseconds(r) == want)
        let s = try pcm(r.bytes).samples
        let both = try #require(legs)
        // The customer speaks only after the opt-out: none of it is in the recording.
        let customerBefore = both.customer.samples[..<s.count]
        #expect(customerBefore.allSatisfy { $0 == 0 })
        #expect(both.customer.samples[s.count...].contains { $0 != 0 })
    }

    @Test func optOutBeforeTwoSecondsLeavesNoRecording() throws {
        let (call, legs) = syntheticCall(seconds: 10, optOutAfter: 1.5)
        let d = try RecordingEngine.render(call, legs: legs, settings: settings(call))
        #expect(d.recording == nil)
        #expect(d.noRecordingReason?.contains("under the 2 s minimum") == true)
        #expect(d.noRecordingReason?.contains("opted out") == true)
    }
}

struct PauseTests {
    @Test func pausesBecomeSilenceByDefault() throws {
        let (call, legs) = try fixture(Sid.paused)
        let pause = try #require(call.pauses.first)
        let a = Int(pause.from.milliseconds - call.answeredAt!.milliseconds) * 8, b = Int(pause.to.milliseconds - call.answeredAt!.milliseconds) * 8
        let customer = try #require(legs).customer.samples
        #expect(customer[a..<b].contains { $0 != 0 }, "the customer speaks during the pause")
        let r = try render(Sid.paused)
        let s = try pcm(r.bytes).samples
        #expect(s.count == customer.count * 2, "silence keeps the length")
        #expect(s[(2 * a)..<(2 * b)].allSatisfy { $0 == 0 }, "paused span is silent in both channels")
        #expect(channel(s, 1, of: 2)[b...] == customer[b...])
    }

    @Test func pausesAreSkippedWhenSettingsSaySkip() throws {
        let (call, legs) = try fixture(Sid.paused)
        let pause = try #require(call.pauses.first)
        let r = try render(Sid.paused) { $0.account.pauses = .skip }
        let paused = pause.to.milliseconds - pause.from.milliseconds
        let whole = call.endedAt.milliseconds - call.answeredAt!.milliseconds
        #expect(try probedMilliseconds(r) == whole - paused)
        let right = channel(try pcm(r.bytes).samples, 1, of: 2)
        let customer = try #require(legs).customer.samples
        let a = Int(pause.from.milliseconds - call.answeredAt!.milliseconds) * 8, b = Int(pause.to.milliseconds - call.answeredAt!.milliseconds) * 8
        #expect(right == Array(customer[..<a] + customer[b...]))
    }

    @Test func pausesOutsideTheSpanAreClipped() throws {
        let (call, _) = syntheticCall(seconds: 10, connectAfter: 3, pauses: [(1, 4), (9, 10)])
        let span = RecordedSpan(call: call, settings: settings(call) { $0.account.startPoint = .connect; $0.account.pauses = .skip }, sampleRate: 8000)
        #expect(span.pausedMilliseconds == 2000)
        #expect(span.durationMilliseconds == 5000)
        #expect(span.pieces.map(\.range) == [(4 * 8000)..<(9 * 8000)])
    }
}

struct DecisionTests {
    @Test func underTwoSecondsIsNotKept() throws {
        let (call, legs) = try fixture(Sid.short)
        let d = try RecordingEngine.render(call, legs: legs, settings: settings(call))
        #expect(d.recording == nil)
        #expect(d.noRecordingReason == "the recorded audio lasts 1.2 s, under the 2 s minimum: very short calls are not kept")
        #expect(d.decision["recording"]?["made"] == .bool(false))
    }

    @Test func exactlyTwoSecondsIsKept() throws {
        let (call, legs) = syntheticCall(seconds: 2)
        #expect(try RecordingEngine.render(call, legs: legs, settings: settings(call)).recording != nil)
    }

    @Test(arguments: ["call", "flow", "account"])
    func disabledAtAnyLayerMakesNoRecordingAndNamesTheLayer(layer: String) throws {
        let (call, legs) = syntheticCall(seconds: 5, record: layer == "call" ? false : nil)
        let effective = settings(call) { s in
            if layer == "flow" { s.flows["sales"] = FlowOverride(override: true, enabled: false) }
            if layer == "account" { s.account.enabled = false }
        }
        let d = try RecordingEngine.render(call, legs: legs, settings: effective)
        #expect(d.recording == nil)
        #expect(d.noRecordingReason?.contains("by the \(layer) settings") == true, "\(d.noRecordingReason ?? "")")
        #expect(d.decision["enabled"]?["layer"] == .string(layer))
    }

    @Test func dualOnStarterIsRecordedMonoAndSaysWhy() throws {
        let (call, legs) = try fixture(Sid.starter)
        let d = try RecordingEngine.render(call, legs: legs, settings: settings(call, plan: .starter))
        let r = try #require(d.recording)
        #expect(r.mode == .single && r.channels == 1 && r.format == .mp3)
        guard case let .array(downgrades)? = d.decision["downgrades"] else { Issue.record("no downgrades"); return }
        #expect(downgrades.contains { "\($0)".contains("Growth and Enterprise plans only") })
        #expect(d.decision["mode"]?["layer"] == .string("plan"))
    }

    @Test func unansweredCallHasNoRecording() throws {
        let (call, legs) = try fixture(Sid.busy)
        #expect(legs == nil)
        let d = try RecordingEngine.render(call, legs: nil, settings: settings(call))
        #expect(d.noRecordingReason?.contains("not answered (outcome busy)") == true)
    }

    @Test func legsOfDifferentRatesAreRefused() throws {
        #expect(throws: InvalidDocument.self) {
            _ = try CallLegs(agent: LegAudio(samples: [0], sampleRate: 8000), customer: LegAudio(samples: [0], sampleRate: 16000))
        }
    }

    @Test func legQualityIsMeasuredAndCatalogued() throws {
        // Agent: half the frames clipped tone; customer: digital silence.
        let (call, legs) = syntheticCall(seconds: 4, agent: { i in i % 2 == 0 ? 32767 : -32768 }, customer: { _ in 0 })
        let d = try RecordingEngine.render(call, legs: legs, settings: settings(call))
        let agent = try #require(d.decision["recording"]?["legs"]?["agent"])
        let customer = try #require(d.decision["recording"]?["legs"]?["customer"])
        #expect(agent["clippedShare"] == .number("1.0"))
        #expect(agent["silentShare"] == .number("0.0"))
        #expect(customer["silentShare"] == .number("1.0"))
        #expect(customer["sampleRate"] == .number("8000"))
        let q = LegQuality(LegAudio(samples: (0..<8000).map { i in i < 4000 ? 0 : tone(i, 300, 8000) }, sampleRate: 8000))
        #expect(abs(q.silentShare - 0.5) < 0.03 && q.clippedShare == 0)
        #expect(abs(q.peakDBFS - 20 * log10(8000.0 / 32768)) < 0.1)
    }
}
