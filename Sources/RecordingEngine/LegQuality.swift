// LegQuality: what recfs can tell about a leg's audio quality from its samples: clipping and
// silence shares and the peak level. Computed once at ingest and catalogued with the call.

import Glibc
import RecordingCore

/// Measures of one leg's audio.
public struct LegQuality: Sendable, Equatable {
    public let sampleRate: Int
    public let durationMilliseconds: Int64
    /// Share of samples at full scale (±32767/−32768): clipped audio.
    public let clippedShare: Double
    /// Share of 20 ms frames quieter than −50 dBFS RMS.
    public let silentShare: Double
    /// The loudest sample, in dBFS (−∞ as −120 for digital silence).
    public let peakDBFS: Double

    /// Frames whose RMS is below this (−50 dBFS) count as silent.
    static let silenceRMS = 32768.0 * pow(10, -50.0 / 20)

    /// Measures `leg`.
    public init(_ leg: LegAudio) {
        let frame = max(1, leg.sampleRate / 50)
        var clipped = 0, silentFrames = 0, frames = 0
        var peak: Int32 = 0
        // Integer sums: a frame is silent when its mean square is under the threshold's square.
        let silentEnergy = LegQuality.silenceRMS * LegQuality.silenceRMS
        leg.samples.withUnsafeBufferPointer { s in
            var start = 0
            while start < s.count {
                let end = min(s.count, start + frame)
                var energy: Int64 = 0
                var framePeak: Int32 = 0
                for i in start..<end {
                    let v = Int32(s[i])
                    let magnitude = v < 0 ? -v : v
                    if magnitude >= 32767 { clipped += 1 }
                    framePeak = max(framePeak, magnitude)
                    energy += Int64(v * v)
                }
                peak = max(peak, framePeak)
                if Double(energy) / Double(end - start) < silentEnergy { silentFrames += 1 }
                frames += 1
                start = end
            }
        }
        sampleRate = leg.sampleRate
        durationMilliseconds = leg.durationMilliseconds
        clippedShare = leg.samples.isEmpty ? 0 : Double(clipped) / Double(leg.samples.count)
        silentShare = frames == 0 ? 1 : Double(silentFrames) / Double(frames)
        peakDBFS = peak == 0 ? -120 : 20 * log10(Double(peak) / 32768)
    }

    /// As catalogued: `{"sampleRate":…, "durationMs":…, "clippedShare":…, "silentShare":…, "peakDbfs":…}`.
    public var json: JSONValue {
        func fixed(_ v: Double, _ digits: Int) -> JSONValue {
            let scale = pow(10, Double(digits))
            return .number(String((v * scale).rounded() / scale))
        }
        return .object([
            ("sampleRate", .int(sampleRate)), ("durationMs", .number(String(durationMilliseconds))),
            ("clippedShare", fixed(clippedShare, 6)), ("silentShare", fixed(silentShare, 4)),
            ("peakDbfs", fixed(peakDBFS, 1)),
        ])
    }
}
