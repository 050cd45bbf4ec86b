// Support: fixture calls, settings, synthetic legs and the signal measures (correlation,
// Goertzel, RMS) the engine's tests judge recordings by.

import Foundation
import RecordingCore
import RecordingStore
import Testing
@testable import RecordingEngine

/// The repository's fixture calls.
let fixtureCalls = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures/calls").path

enum Sid {
    /// Dual, 8 kHz, 7 s, IVR until +4 s (connectedAt), every field present.
    static let dual = "CA5a4f7a5b568e5da8e66977530a6f9870"
    /// Single, 8 kHz, 7 s, IVR until connectedAt.
    static let support = "CAe6fc0ee8f7446afa7c080aa5e6ee6501"
    /// 1.2 s of legs.
    static let short = "CA5092f79312c4a125a498a4c3be10e2bb"
    /// Record false.
    static let recordFalse = "CAf77295a0a2627353e3567e532d5d09c7"
    /// Opt-out mid-call.
    static let optOut = "CA9d4de30a45103ae007164857f750f66d"
    /// Dual asked for on the Starter account.
    static let starter = "CA433cad4c198702fec2f19d6df902b53b"
    /// 16 kHz dual.
    static let wideband = "CA5e32b54910544a5d4eb61fcb008126ec"
    /// Never answered.
    static let busy = "CAfdc93e4f0e581fbfa16db0d72bb167b5"
    /// Collections flow, optional fields omitted.
    static let collections = "CAe0c893904726659b096dc93ff823b298"
    /// Dual with a 2 s pause (+2 s … +4 s) while the customer speaks.
    static let paused = "CAf142738ffafafed5157a1a1eff75f9ee"
}

/// A fixture call: its description and legs.
func fixture(_ sid: String) throws -> (CallDescription, CallLegs?) {
    let (delivery, call) = try CallDelivery.read(callFile: fixtureCalls + "/\(sid).json")
    guard let a = delivery.agentWAV, let c = delivery.customerWAV else { return (call, nil) }
    return (call, try CallLegs(agent: try LegAudio.decode(wav: a, field: "legs.agent"),
                               customer: try LegAudio.decode(wav: c, field: "legs.customer")))
}

/// Effective settings of `call` on `plan`'s defaults changed by `change`.
func settings(_ call: CallDescription, plan: Plan = .growth, _ change: (inout RecordingSettings) -> Void = { _ in }) -> EffectiveSettings {
    var s = RecordingSettings.defaults(plan: plan, region: .apSouth1)
    change(&s)
    return SettingsResolver.resolve(s, plan: plan, call: call.request)
}

/// Renders a fixture call; fails the test if no recording is made.
func render(_ sid: String, plan: Plan = .growth, _ change: (inout RecordingSettings) -> Void = { _ in }) throws -> RenderedRecording {
    let (call, legs) = try fixture(sid)
    let decision = try RecordingEngine.render(call, legs: legs, settings: settings(call, plan: plan, change))
    return try #require(decision.recording, "no recording: \(decision.noRecordingReason ?? "")")
}

/// A made-up answered call of `seconds` at `rate`, answered at 10:00:05Z, with legs from `agent`
/// and `customer` (sample index → value).
func syntheticCall(seconds: Double, rate: Int = 8000, connectAfter: Double? = nil, optOutAfter: Double? = nil,
                   pauses: [(Double, Double)] = [], channels: RequestedChannels? = nil, record: Bool? = nil,
                   agent: (Int) -> Int16 = { i in tone(i, 440, 8000) }, customer: (Int) -> Int16 = { i in tone(i, 660, 8000) })
    -> (CallDescription, CallLegs) {
    let answered = Timestamp(rfc3339: "2026-11-24T10:00:05Z")!
    func at(_ s: Double) -> Timestamp { Timestamp(milliseconds: answered.milliseconds + Int64((s * 1000).rounded())) }
    let frames = Int(seconds * Double(rate))
    let call = CallDescription(
        account: "ACdemo", callSid: "CAsynthetic", flow: "sales", from: "+1", to: "+2", callerId: nil, direction: .inbound,
        outcome: "completed", startedAt: Timestamp(rfc3339: "2026-11-24T10:00:00Z")!, answeredAt: answered,
        connectedAt: connectAfter.map(at), endedAt: at(seconds), record: record, recordingChannels: channels,
        optOutAt: optOutAfter.map(at), pauses: pauses.map { CallDescription.Pause(from: at($0.0), to: at($0.1)) },
        agentLeg: "a.wav", customerLeg: "c.wav")
    let legs = try! CallLegs(agent: LegAudio(samples: (0..<frames).map(agent), sampleRate: rate),
                             customer: LegAudio(samples: (0..<frames).map(customer), sampleRate: rate))
    return (call, legs)
}

/// A sine tone sample at amplitude 8000.
func tone(_ i: Int, _ hz: Double, _ rate: Int, amplitude: Double = 8000) -> Int16 {
    Int16(amplitude * sin(2 * Double.pi * hz * Double(i) / Double(rate)))
}

/// The samples of a 16-bit PCM WAV, and its channel count and rate.
func pcm(_ wav: [UInt8]) throws -> (samples: [Int16], channels: Int, rate: Int) {
    let layout = try AudioProbe.wavLayout(wav, fileSize: wav.count)
    let n = layout.dataSize / 2
    let samples = (0..<n).map { i in Int16(bitPattern: UInt16(wav[layout.dataOffset + 2 * i]) | UInt16(wav[layout.dataOffset + 2 * i + 1]) << 8) }
    return (samples, layout.info.channels, layout.info.sampleRate)
}

/// Channel `c` of interleaved samples.
func channel(_ s: [Int16], _ c: Int, of channels: Int) -> [Int16] {
    stride(from: c, to: s.count, by: channels).map { s[$0] }
}

/// Pearson correlation of two equally long signals.
func correlation(_ a: [Int16], _ b: [Int16]) -> Double {
    let n = min(a.count, b.count)
    guard n > 0 else { return 0 }
    var sa = 0.0, sb = 0.0
    for i in 0..<n { sa += Double(a[i]); sb += Double(b[i]) }
    let ma = sa / Double(n), mb = sb / Double(n)
    var cov = 0.0, va = 0.0, vb = 0.0
    for i in 0..<n {
        let x = Double(a[i]) - ma, y = Double(b[i]) - mb
        cov += x * y; va += x * x; vb += y * y
    }
    return va == 0 || vb == 0 ? 0 : cov / (va * vb).squareRoot()
}

/// Power at `hz` over `samples` (Goertzel), normalised by length: a full-scale-A sine gives about A²/4.
func goertzel(_ samples: ArraySlice<Int16>, hz: Double, rate: Int) -> Double {
    let k = 2 * cos(2 * Double.pi * hz / Double(rate))
    var s1 = 0.0, s2 = 0.0
    for x in samples {
        let s0 = Double(x) + k * s1 - s2
        s2 = s1
        s1 = s0
    }
    let power = s1 * s1 + s2 * s2 - k * s1 * s2
    return power / Double(samples.count * samples.count)
}

/// Mean power of `samples`.
func meanPower(_ samples: ArraySlice<Int16>) -> Double {
    samples.isEmpty ? 0 : samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)
}

/// A temporary folder removed when dropped.
final class Scratch {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "/recfs-engine-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }
}

/// Runs a program, capturing stdout and stderr.
func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [program] + arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}
