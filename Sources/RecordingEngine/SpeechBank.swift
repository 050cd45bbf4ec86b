// SpeechBank: utterances cut from the fixture legs (real espeak-ng speech), the raw material of
// synthetic calls.

import Foundation
import RecordingCore
import RecordingStore

/// Agent and customer utterances at 8 kHz, cut from call legs at their silences.
public struct SpeechBank: Sendable {
    public let agent: [[Int16]]
    public let customer: [[Int16]]

    /// Cuts the legs of every call JSON in `folder` (the fixture calls) into utterances.
    public static func load(calls folder: String) throws -> SpeechBank {
        var agent: [[Int16]] = [], customer: [[Int16]] = []
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
        for name in names {
            let (delivery, _) = try CallDelivery.read(callFile: folder + "/" + name)
            guard let a = delivery.agentWAV, let c = delivery.customerWAV else { continue }
            agent += utterances(of: try LegAudio.decode(wav: a, field: "legs.agent"))
            customer += utterances(of: try LegAudio.decode(wav: c, field: "legs.customer"))
        }
        guard !agent.isEmpty, !customer.isEmpty else {
            throw StoreError("no speech found in the call legs under \(folder) (expected the fixture calls, fixtures/calls)")
        }
        return SpeechBank(agent: agent, customer: customer)
    }

    /// The stretches of speech in `leg` (resampled to 8 kHz): runs between silences of 100 ms or more.
    static func utterances(of leg: LegAudio) -> [[Int16]] {
        var s = leg.samples
        if leg.sampleRate == 16000 {
            s = stride(from: 0, to: s.count - 1, by: 2).map { Int16((Int32(s[$0]) + Int32(s[$0 + 1])) / 2) }
        }
        let quiet: Int16 = 64, minGap = 800
        var out: [[Int16]] = []
        var start: Int?, lastLoud = 0
        for (i, v) in s.enumerated() {
            if abs(Int32(v)) > Int32(quiet) {
                if start == nil { start = i }
                lastLoud = i
            } else if let st = start, i - lastLoud >= minGap {
                if lastLoud - st > 800 { out.append(Array(s[st...lastLoud])) }
                start = nil
            }
        }
        if let st = start, lastLoud - st > 800 { out.append(Array(s[st...lastLoud])) }
        return out
    }
}
