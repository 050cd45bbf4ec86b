// ChannelView: one party of a dual-channel recording as a mono WAV, made on read from the
// stereo recording without reading more of it than the asked range needs.

/// The arithmetic of `agent.wav` (left) and `customer.wav` (right) over a canonical stereo
/// 16-bit PCM WAV (44-byte header, interleaved L/R samples of 2 bytes).
enum ChannelView {
    static let headerSize: Int64 = 44

    /// The mono file's size for a stereo recording of `stereoSize` bytes.
    static func size(stereoSize: Int64) -> Int64 {
        headerSize + max(0, stereoSize - headerSize) / 4 * 2
    }

    /// The mono WAV header, derived from the stereo one (same rate, one channel).
    static func monoHeader(stereo h: [UInt8], monoSize: Int64) -> [UInt8]? {
        guard h.count >= 44, h[0..<4].elementsEqual("RIFF".utf8), h[8..<12].elementsEqual("WAVE".utf8),
              h[12..<16].elementsEqual("fmt ".utf8), h[36..<40].elementsEqual("data".utf8),
              h[20] == 1, h[21] == 0, h[22] == 2, h[23] == 0, h[34] == 16 else { return nil }
        var m = Array(h[0..<44])
        func put32(_ v: Int64, at i: Int) { for k in 0..<4 { m[i + k] = UInt8(truncatingIfNeeded: v >> (8 * Int64(k))) } }
        func put16(_ v: Int, at i: Int) { m[i] = UInt8(v & 0xFF); m[i + 1] = UInt8(v >> 8) }
        let rate = Int64(h[24]) | Int64(h[25]) << 8 | Int64(h[26]) << 16 | Int64(h[27]) << 24
        put32(monoSize - 8, at: 4)
        put16(1, at: 22)
        put32(rate * 2, at: 28)
        put16(2, at: 32)
        put32(monoSize - 44, at: 40)
        return m
    }

    /// Fills `out` with the mono file's bytes at `offset` (clamped to `monoSize`), reading the
    /// stereo samples it needs through `readStereo(offset, count) -> bytes`.
    static func read(channel: Int, header: [UInt8], monoSize: Int64, offset: Int64, count: Int,
                     readStereo: (Int64, Int) throws -> [UInt8]) throws -> [UInt8] {
        let end = min(monoSize, offset + Int64(count))
        guard offset < end else { return [] }
        var out: [UInt8] = []
        out.reserveCapacity(Int(end - offset))
        if offset < headerSize {
            out += header[Int(offset)..<Int(min(end, headerSize))]
        }
        let dataFrom = max(offset, headerSize) - headerSize, dataTo = end - headerSize
        guard dataFrom < dataTo else { return out }
        let firstSample = dataFrom / 2, lastSample = (dataTo + 1) / 2
        let stereo = try readStereo(headerSize + firstSample * 4, Int((lastSample - firstSample) * 4))
        var mono = [UInt8](repeating: 0, count: stereo.count / 2)
        let pick = channel * 2
        stereo.withUnsafeBufferPointer { s in
            mono.withUnsafeMutableBufferPointer { m in
                for i in 0..<(s.count / 4) {
                    m[2 * i] = s[4 * i + pick]
                    m[2 * i + 1] = s[4 * i + pick + 1]
                }
            }
        }
        let skip = Int(dataFrom - firstSample * 2)
        out += mono[skip..<(skip + Int(dataTo - dataFrom))]
        return out
    }
}
