// Mixdown: the recording's samples from the legs: both parties mixed into one channel, or
// agent left and customer right; the beep laid over the start. Sums saturate, never wrap.

import Glibc

/// PCM samples of a recording, interleaved when there are two channels.
public struct PCMAudio: Sendable, Equatable {
    public var samples: [Int16]
    public let channels: Int
    public let sampleRate: Int

    /// Frames (samples per channel).
    public var frameCount: Int { samples.count / channels }
}

/// Builds a recording's PCM from the legs and the span it keeps.
public enum Mixdown {
    /// `a + b` clamped to the 16-bit range: loud overlapping speech clips instead of wrapping.
    @inline(__always) public static func saturatingSum(_ a: Int16, _ b: Int16) -> Int16 {
        let s = Int32(a) + Int32(b)
        return Int16(clamping: s)
    }

    /// Both legs mixed into one channel.
    public static func mono(agent: LegAudio, customer: LegAudio, span: RecordedSpan) -> PCMAudio {
        var out = [Int16](repeating: 0, count: span.sampleCount)
        var o = 0
        out.withUnsafeMutableBufferPointer { dst in
            for piece in span.pieces {
                if !piece.paused {
                    for i in piece.range { dst[o + i - piece.range.lowerBound] = saturatingSum(agent.sample(i), customer.sample(i)) }
                }
                o += piece.range.count
            }
        }
        return PCMAudio(samples: out, channels: 1, sampleRate: span.sampleRate)
    }

    /// Stereo: left = agent, right = customer.
    public static func stereo(agent: LegAudio, customer: LegAudio, span: RecordedSpan) -> PCMAudio {
        var out = [Int16](repeating: 0, count: span.sampleCount * 2)
        var o = 0
        out.withUnsafeMutableBufferPointer { dst in
            for piece in span.pieces {
                if !piece.paused {
                    for i in piece.range {
                        let f = 2 * (o + i - piece.range.lowerBound)
                        dst[f] = agent.sample(i)
                        dst[f + 1] = customer.sample(i)
                    }
                }
                o += piece.range.count
            }
        }
        return PCMAudio(samples: out, channels: 2, sampleRate: span.sampleRate)
    }
}

/// The recording-start beep: a 1 kHz tone of about 400 ms, laid over the start of every channel.
public enum Beep {
    public static let frequency = 1000.0
    public static let durationMilliseconds = 400
    /// Peak amplitude: about −10 dBFS, loud against speech without clipping it.
    public static let amplitude = 10_000.0
    /// Fade in and out, so the tone starts and stops without a click.
    static let fadeMilliseconds = 10

    /// Mixes the beep into the first 400 ms of `audio` (saturating).
    public static func apply(to audio: inout PCMAudio) {
        let rate = Double(audio.sampleRate)
        let length = min(audio.frameCount, audio.sampleRate * durationMilliseconds / 1000)
        let fade = audio.sampleRate * fadeMilliseconds / 1000
        let channels = audio.channels
        audio.samples.withUnsafeMutableBufferPointer { dst in
            for n in 0..<length {
                let envelope = Double(min(n, length - 1 - n, fade)) / Double(fade)
                let tone = Int16(amplitude * min(1, envelope) * sin(2 * Double.pi * frequency * Double(n) / rate))
                for c in 0..<channels { dst[n * channels + c] = Mixdown.saturatingSum(dst[n * channels + c], tone) }
            }
        }
    }
}
