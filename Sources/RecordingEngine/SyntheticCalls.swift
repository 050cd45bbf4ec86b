// SyntheticCalls: deterministic made-up calls (`recfs gen`): varied flows, outcomes, modes,
// rates, IVR, opt-outs and pauses, durations from 5 s to 20 min, legs built in memory from
// fixture speech. The same seed gives the same sids, JSON and audio bytes.

import Foundation
import RecordingCore

/// SplitMix64: small, fast and the same on every platform, so a seed always gives the same calls.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Makes synthetic calls for one account.
public struct SyntheticCalls: Sendable {
    public let account: String
    public let seed: UInt64
    public let speech: SpeechBank
    /// Calls start in [`from`, `until`).
    public let from: Timestamp
    public let until: Timestamp
    /// The longest answered call, in seconds (at least 5).
    public let maxDurationSeconds: Int

    static let flows = ["sales", "sales", "support", "support", "support", "collections", "billing", "onboarding"]

    public init(account: String, seed: UInt64, speech: SpeechBank, from: Timestamp, until: Timestamp, maxDurationSeconds: Int = 1200) {
        self.account = account
        self.seed = seed
        self.speech = speech
        self.from = from
        self.until = until
        self.maxDurationSeconds = max(5, maxDurationSeconds)
    }

    /// Call number `index`: its delivery (JSON and leg WAVs in memory) and its description.
    /// Depends only on the seed, the index and the time window.
    public func call(_ index: Int) -> (CallDelivery, CallDescription) {
        var rng = SeededRandom(seed: seed &* 0x2545_F491_4F6C_DD1D &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        let sid = "CA" + String(format32(rng.next())) + String(format32(rng.next()))
        let flow = SyntheticCalls.flows[Int.random(in: 0..<SyntheticCalls.flows.count, using: &rng)]
        let direction: CallDescription.Direction = Bool.random(using: &rng) ? .inbound : .outbound
        let roll = Double.random(in: 0..<1, using: &rng)
        let outcome = roll < 0.05 ? "busy" : roll < 0.12 ? "no-answer" : roll < 0.15 ? "failed" : roll < 0.20 ? "disputed" : "completed"
        let window = max(1, until.milliseconds - from.milliseconds)
        let started = Timestamp(milliseconds: from.milliseconds + Int64.random(in: 0..<window, using: &rng) / 1000 * 1000)
        let ring = Int64.random(in: 2...20, using: &rng)
        let channels: RequestedChannels? = [nil, nil, .single, .mono, .dual, .dual][Int.random(in: 0..<6, using: &rng)]
        let record: Bool? = Double.random(in: 0..<1, using: &rng) < 0.08 ? false : (Bool.random(using: &rng) ? true : nil)
        let number = { (rng: inout SeededRandom) in "+9198" + String(Int.random(in: 10_000_000...99_999_999, using: &rng)) }
        let customerNumber = number(&rng), agentNumber = "+91445" + String(Int.random(in: 1_000_000...9_999_999, using: &rng))

        guard outcome == "completed" || outcome == "disputed" else {
            let call = CallDescription(
                account: account, callSid: sid, flow: flow, from: direction == .inbound ? customerNumber : agentNumber,
                to: direction == .inbound ? agentNumber : customerNumber, callerId: "+914412345678", direction: direction,
                outcome: outcome, startedAt: started, answeredAt: nil, connectedAt: nil,
                endedAt: Timestamp(milliseconds: started.milliseconds + ring * 1000), record: record,
                recordingChannels: channels, optOutAt: nil, pauses: [], agentLeg: nil, customerLeg: nil)
            return (CallDelivery(json: SyntheticCalls.json(call), agentWAV: nil, customerWAV: nil), call)
        }

        // Durations from 5 s up, mostly short: 5 s × (max/5)^(u²) has a median near 20 s and a
        // mean near 2 min when the longest is 20 min.
        let u = Double.random(in: 0..<1, using: &rng)
        let seconds = 5 * pow(Double(maxDurationSeconds) / 5, u * u)
        let rate = Double.random(in: 0..<1, using: &rng) < 0.2 ? 16000 : 8000
        let frames = Int(seconds * Double(rate))
        let ivrFrames = Bool.random(using: &rng) ? min(frames / 3, Int.random(in: 3...8, using: &rng) * rate) : 0
        var agent = [Int16](repeating: 0, count: frames), customer = [Int16](repeating: 0, count: frames)
        var pos = 0
        while pos < ivrFrames {
            pos = place(speech.agent[Int.random(in: 0..<speech.agent.count, using: &rng)], into: &agent, at: pos, rate: rate, limit: ivrFrames)
            pos += rate / 4
        }
        pos = ivrFrames
        var agentTurn = true
        while pos < frames {
            let bank = agentTurn ? speech.agent : speech.customer
            let utterance = bank[Int.random(in: 0..<bank.count, using: &rng)]
            if agentTurn {
                pos = place(utterance, into: &agent, at: pos, rate: rate, limit: frames)
            } else {
                pos = place(utterance, into: &customer, at: pos, rate: rate, limit: frames)
            }
            pos += Int.random(in: rate / 8...rate * 3 / 4, using: &rng)
            agentTurn.toggle()
        }

        let answered = Timestamp(milliseconds: started.milliseconds + ring * 1000)
        let lengthMs = Int64(frames) * 1000 / Int64(rate)
        let at = { (ms: Int64) in Timestamp(milliseconds: answered.milliseconds + ms) }
        let connected = ivrFrames > 0 ? at(Int64(ivrFrames) * 1000 / Int64(rate)) : nil
        let optOut = lengthMs > 10_000 && Double.random(in: 0..<1, using: &rng) < 0.03
            ? at(Int64.random(in: 2000..<lengthMs, using: &rng)) : nil
        var pauses: [CallDescription.Pause] = []
        if lengthMs > 20_000 && Double.random(in: 0..<1, using: &rng) < 0.06 {
            let a = Int64.random(in: 5000..<(lengthMs - 10_000), using: &rng)
            pauses.append(CallDescription.Pause(from: at(a), to: at(a + Int64.random(in: 2000...8000, using: &rng))))
        }
        let call = CallDescription(
            account: account, callSid: sid, flow: flow, from: direction == .inbound ? customerNumber : agentNumber,
            to: direction == .inbound ? agentNumber : customerNumber, callerId: "+914412345678", direction: direction,
            outcome: outcome, startedAt: started, answeredAt: answered, connectedAt: connected, endedAt: at(lengthMs),
            record: record, recordingChannels: channels, optOutAt: optOut, pauses: pauses,
            agentLeg: "legs/\(sid)-agent.wav", customerLeg: "legs/\(sid)-customer.wav")
        let wav = { (s: [Int16]) in WAVEncoder.encode(PCMAudio(samples: s, channels: 1, sampleRate: rate)) }
        return (CallDelivery(json: SyntheticCalls.json(call), agentWAV: wav(agent), customerWAV: wav(customer)), call)
    }

    /// Copies `utterance` (8 kHz) into `leg` at `pos`, doubling samples for 16 kHz; returns the end.
    func place(_ utterance: [Int16], into leg: inout [Int16], at pos: Int, rate: Int, limit: Int) -> Int {
        var p = pos
        leg.withUnsafeMutableBufferPointer { dst in
            for (i, v) in utterance.enumerated() {
                if rate == 16000 {
                    let next = i + 1 < utterance.count ? utterance[i + 1] : v
                    guard p + 1 < limit else { return }
                    dst[p] = v
                    dst[p + 1] = Int16((Int32(v) + Int32(next)) / 2)
                    p += 2
                } else {
                    guard p < limit else { return }
                    dst[p] = v
                    p += 1
                }
            }
        }
        return p
    }

    func format32(_ v: UInt64) -> String {
        let hex = String(v, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The call JSON, as `recfs ingest` takes it.
    static func json(_ c: CallDescription) -> [UInt8] {
        func time(_ t: Timestamp?) -> JSONValue { t.map { .string($0.description) } ?? .null }
        var members: [(key: String, value: JSONValue)] = [
            ("account", .string(c.account)), ("callSid", .string(c.callSid)), ("flow", .string(c.flow)),
            ("from", .string(c.from)), ("to", .string(c.to)), ("callerId", c.callerId.map(JSONValue.string) ?? .null),
            ("direction", .string(c.direction.rawValue)), ("outcome", .string(c.outcome)),
            ("startedAt", time(c.startedAt)), ("answeredAt", time(c.answeredAt)),
        ]
        if let connected = c.connectedAt { members.append(("connectedAt", time(connected))) }
        members.append(("endedAt", time(c.endedAt)))
        if let r = c.record { members.append(("record", .bool(r))) }
        if let ch = c.recordingChannels { members.append(("recordingChannels", .string(ch.rawValue))) }
        members.append(("optOutAt", time(c.optOutAt)))
        members.append(("pauses", .array(c.pauses.map { .object([("from", time($0.from)), ("to", time($0.to))]) })))
        if let a = c.agentLeg, let cu = c.customerLeg {
            members.append(("legs", .object([("agent", .string(a)), ("customer", .string(cu))])))
        }
        return Array(JSONValue.object(members).prettyPrinted().utf8)
    }
}
