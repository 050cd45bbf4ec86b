// WAVEncoder: PCM into a canonical WAV file: a 44-byte header (RIFF, fmt with PCM tag 1,
// data) and little-endian 16-bit samples, with exact RIFF and data sizes.

/// Writes canonical 16-bit PCM WAV files.
public enum WAVEncoder {
    public static let headerSize = 44

    /// The whole file: header and samples.
    public static func encode(_ audio: PCMAudio) -> [UInt8] {
        let dataSize = audio.samples.count * 2
        var out = header(channels: audio.channels, sampleRate: audio.sampleRate, dataSize: dataSize)
        out.reserveCapacity(headerSize + dataSize)
        audio.samples.withUnsafeBufferPointer { src in
            out.append(contentsOf: UnsafeRawBufferPointer(UnsafeBufferPointer(start: src.baseAddress, count: src.count)))
        }
        #if _endian(big)
        for i in stride(from: headerSize, to: out.count, by: 2) { out.swapAt(i, i + 1) }
        #endif
        return out
    }

    /// The 44-byte header of a PCM WAV holding `dataSize` bytes of samples.
    public static func header(channels: Int, sampleRate: Int, dataSize: Int) -> [UInt8] {
        func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        func le16(_ v: Int) -> [UInt8] { (0..<2).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        let blockAlign = channels * 2
        return Array("RIFF".utf8) + le32(36 + dataSize) + Array("WAVE".utf8)
            + Array("fmt ".utf8) + le32(16) + le16(1) + le16(channels) + le32(sampleRate)
            + le32(sampleRate * blockAlign) + le16(blockAlign) + le16(16)
            + Array("data".utf8) + le32(dataSize)
    }
}
