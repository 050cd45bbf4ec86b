// AudioProbe: what an audio file is (WAV or MP3, channels, rate, duration), read from its
// bytes alone: the engine checks call legs with it, and tests check what the engine made.

/// The shape of a recording file.
public struct AudioInfo: Equatable, Sendable {
    public let format: AudioFormat
    public let channels: Int
    public let sampleRate: Int
    /// 16 for PCM WAV; 0 for MP3.
    public let bitsPerSample: Int
    public let durationMilliseconds: Int64
}

/// Where a WAV file's samples are: the data chunk's offset and size in bytes.
public struct WAVLayout: Equatable, Sendable {
    public let info: AudioInfo
    public let dataOffset: Int
    public let dataSize: Int
}

/// Why a file is not a usable recording.
public struct AudioProbeError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// Reads WAV (PCM, RIFF) and MP3 (MPEG audio layer III, optional ID3v2 tag) headers.
public enum AudioProbe {
    /// Whether the bytes start like a WAV file (then a header prefix is enough to probe it).
    public static func isWAV(_ b: [UInt8]) -> Bool {
        b.count >= 12 && b[0..<4].elementsEqual("RIFF".utf8) && b[8..<12].elementsEqual("WAVE".utf8)
    }

    /// Probes a file from its bytes: for WAV a prefix holding the header chunks is enough
    /// (`fileSize` bounds the data chunk); MP3 needs the whole file (frames are counted).
    public static func probe(_ b: [UInt8], fileSize: Int) throws(AudioProbeError) -> AudioInfo {
        if isWAV(b) { return try wav(b, fileSize: fileSize) }
        return try mp3(b)
    }

    static func le16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
    static func le32(_ b: [UInt8], _ i: Int) -> Int { le16(b, i) | le16(b, i + 2) << 16 }

    static func wav(_ b: [UInt8], fileSize: Int) throws(AudioProbeError) -> AudioInfo {
        try wavLayout(b, fileSize: fileSize).info
    }

    /// Probes a PCM WAV file and says where its samples are. `b` needs to hold the header
    /// chunks only; `fileSize` bounds the data chunk.
    public static func wavLayout(_ b: [UInt8], fileSize: Int) throws(AudioProbeError) -> WAVLayout {
        guard isWAV(b) else { throw AudioProbeError(reason: "not a WAV file (no RIFF/WAVE header)") }
        var i = 12
        var fmt: (tag: Int, channels: Int, rate: Int, bits: Int, blockAlign: Int)?
        while i + 8 <= b.count {
            let id = String(decoding: b[i..<(i + 4)], as: UTF8.self)
            let size = le32(b, i + 4)
            let body = i + 8
            if id == "fmt " {
                guard size >= 16, body + 16 <= b.count else { throw AudioProbeError(reason: "WAV fmt chunk is too short") }
                fmt = (le16(b, body), le16(b, body + 2), le32(b, body + 4), le16(b, body + 14), le16(b, body + 12))
            } else if id == "data" {
                guard let f = fmt else { throw AudioProbeError(reason: "WAV data chunk comes before its fmt chunk") }
                guard f.tag == 1 || f.tag == 0xFFFE else { throw AudioProbeError(reason: "WAV format tag \(f.tag) is not PCM") }
                guard f.bits == 16 else { throw AudioProbeError(reason: "WAV has \(f.bits)-bit samples; recordings are 16-bit PCM") }
                guard (1...2).contains(f.channels) else { throw AudioProbeError(reason: "WAV has \(f.channels) channels; recordings are mono or stereo") }
                guard [8000, 16000, 22050, 24000, 32000, 44100, 48000].contains(f.rate) else {
                    throw AudioProbeError(reason: "WAV sample rate \(f.rate) Hz is not supported")
                }
                guard body + size <= fileSize else { throw AudioProbeError(reason: "WAV data chunk says \(size) bytes but the file ends sooner (truncated)") }
                let frames = Int64(size / max(1, f.blockAlign))
                let info = AudioInfo(format: .wav, channels: f.channels, sampleRate: f.rate, bitsPerSample: 16,
                                     durationMilliseconds: frames * 1000 / Int64(f.rate))
                return WAVLayout(info: info, dataOffset: body, dataSize: size)
            }
            i = body + size + (size & 1)
        }
        throw AudioProbeError(reason: "WAV file has no data chunk")
    }

    static let bitrates: [[Int]] = [
        [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],  // MPEG-1 layer III
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],     // MPEG-2/2.5 layer III
    ]

    static func mp3(_ b: [UInt8]) throws(AudioProbeError) -> AudioInfo {
        var i = 0
        if b.count >= 10, b[0..<3].elementsEqual("ID3".utf8) {
            let size = Int(b[6] & 0x7F) << 21 | Int(b[7] & 0x7F) << 14 | Int(b[8] & 0x7F) << 7 | Int(b[9] & 0x7F)
            i = 10 + size + (b[5] & 0x10 != 0 ? 10 : 0)
        }
        var frames: Int64 = 0
        var rate = 0, channels = 0, samplesPerFrame = 0
        var infoFrame: (frames: Int64, trim: Int64)?
        while i + 4 <= b.count {
            guard b[i] == 0xFF, b[i + 1] & 0xE0 == 0xE0 else {
                if frames > 0, b.count - i >= 3, b[i..<(i + 3)].elementsEqual("TAG".utf8) { break }
                if frames == 0 { throw AudioProbeError(reason: "not a WAV or MP3 file (no RIFF header and no MPEG frame at byte \(i))") }
                throw AudioProbeError(reason: "MP3 stream is damaged at byte \(i)")
            }
            let versionBits = (b[i + 1] >> 3) & 3, layerBits = (b[i + 1] >> 1) & 3
            let bitrateIndex = Int(b[i + 2] >> 4), rateIndex = Int((b[i + 2] >> 2) & 3), padding = Int((b[i + 2] >> 1) & 1)
            guard versionBits != 1, layerBits == 1, bitrateIndex != 0, bitrateIndex != 15, rateIndex != 3 else {
                throw AudioProbeError(reason: "MP3 frame at byte \(i) is not MPEG layer III audio")
            }
            let mpeg1 = versionBits == 3
            let baseRates = [44100, 48000, 32000]
            let frameRate = mpeg1 ? baseRates[rateIndex] : (versionBits == 2 ? baseRates[rateIndex] / 2 : baseRates[rateIndex] / 4)
            let kbps = bitrates[mpeg1 ? 0 : 1][bitrateIndex]
            let spf = mpeg1 ? 1152 : 576
            let length = (spf / 8) * kbps * 1000 / frameRate + padding
            rate = frameRate
            samplesPerFrame = spf
            channels = (b[i + 3] >> 6) == 3 ? 1 : 2
            if frames == 0 && infoFrame == nil, let info = xingInfo(b, frame: i, mpeg1: mpeg1, mono: channels == 1) {
                // The encoder's Info frame carries no audio: it gives the frame count and the
                // encoder delay and padding to trim, as decoders do.
                infoFrame = info
            } else {
                frames += 1
            }
            i += length
        }
        guard frames > 0 else { throw AudioProbeError(reason: "MP3 file holds no frames") }
        var samples = frames * Int64(samplesPerFrame)
        if let info = infoFrame {
            if info.frames > 0 { samples = min(samples, info.frames * Int64(samplesPerFrame)) }
            samples = max(0, samples - info.trim)
        }
        return AudioInfo(format: .mp3, channels: channels, sampleRate: rate, bitsPerSample: 0,
                         durationMilliseconds: samples * 1000 / Int64(rate))
    }

    /// The Xing/Info header of a first frame: its frame count (0 if absent) and the LAME
    /// tag's encoder delay plus padding in samples (0 if absent). Nil when the frame is audio.
    static func xingInfo(_ b: [UInt8], frame i: Int, mpeg1: Bool, mono: Bool) -> (frames: Int64, trim: Int64)? {
        let sideInfo = mpeg1 ? (mono ? 17 : 32) : (mono ? 9 : 17)
        let x = i + 4 + sideInfo
        guard x + 8 <= b.count else { return nil }
        let id = b[x..<(x + 4)]
        guard id.elementsEqual("Xing".utf8) || id.elementsEqual("Info".utf8) else { return nil }
        func be32(_ o: Int) -> Int64 { Int64(b[o]) << 24 | Int64(b[o + 1]) << 16 | Int64(b[o + 2]) << 8 | Int64(b[o + 3]) }
        let flags = be32(x + 4)
        var o = x + 8
        var count: Int64 = 0
        if flags & 1 != 0, o + 4 <= b.count { count = be32(o); o += 4 }
        if flags & 2 != 0 { o += 4 }
        if flags & 4 != 0 { o += 100 }
        if flags & 8 != 0 { o += 4 }
        var trim: Int64 = 0
        if o + 24 <= b.count, b[o..<(o + 4)].elementsEqual("LAME".utf8) {
            let d = o + 21
            let delay = Int64(b[d]) << 4 | Int64(b[d + 1] >> 4)
            let padding = Int64(b[d + 1] & 0x0F) << 8 | Int64(b[d + 2])
            trim = delay + padding
        }
        return (count, trim)
    }
}
