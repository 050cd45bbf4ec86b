// LegAudio: one party's audio of a call (mono 16-bit PCM from answer on), read from a WAV leg.

import RecordingCore

/// One party's audio: mono 16-bit samples at `sampleRate`, starting when the call was answered.
public struct LegAudio: Sendable, Equatable {
    /// The sample rates legs may have: telephony (8 kHz) and wideband (16 kHz).
    public static let sampleRates = [8000, 16000]

    public let samples: [Int16]
    public let sampleRate: Int

    public init(samples: [Int16], sampleRate: Int) {
        self.samples = samples
        self.sampleRate = sampleRate
    }

    /// Length in milliseconds.
    public var durationMilliseconds: Int64 { Int64(samples.count) * 1000 / Int64(sampleRate) }

    /// The sample at `index`, or silence past the leg's end.
    @inline(__always) func sample(_ index: Int) -> Int16 { index < samples.count ? samples[index] : 0 }

    /// Reads a leg from the bytes of a WAV file; `field` names it in errors (`legs.agent`).
    public static func decode(wav bytes: [UInt8], field: String) throws(InvalidDocument) -> LegAudio {
        func refuse(_ reason: String) -> InvalidDocument {
            InvalidDocument([SettingsViolation(path: field, reason: reason)], what: "call")
        }
        let layout: WAVLayout
        do {
            layout = try AudioProbe.wavLayout(bytes, fileSize: bytes.count)
        } catch {
            throw refuse("is not a usable leg: \(error.reason)")
        }
        let info = layout.info
        guard info.channels == 1 else { throw refuse("has \(info.channels) channels; a leg is mono (one party)") }
        guard sampleRates.contains(info.sampleRate) else {
            throw refuse("is sampled at \(info.sampleRate) Hz; legs are 8000 Hz (telephony) or 16000 Hz (wideband)")
        }
        let count = layout.dataSize / 2
        let samples = [Int16](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                let source = UnsafeRawBufferPointer(rebasing: raw[layout.dataOffset..<(layout.dataOffset + count * 2)])
                for i in 0..<count { buffer[i] = Int16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)) }
            }
            initialized = count
        }
        return LegAudio(samples: samples, sampleRate: info.sampleRate)
    }
}
