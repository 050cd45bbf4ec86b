// ChannelViewTests: agent.wav and customer.wav bytes, at any offset, against a whole-file model.

import Testing
@testable import RecordingFS

@Suite struct ChannelViewTests {
    /// A canonical stereo WAV of `frames` frames of seeded noise.
    static func stereo(frames: Int, rate: Int = 8000) -> [UInt8] {
        var h = Array("RIFF".utf8) + le32(36 + frames * 4) + Array("WAVEfmt ".utf8) + le32(16)
        h += le16(1) + le16(2) + le32(rate) + le32(rate * 4) + le16(4) + le16(16) + Array("data".utf8) + le32(frames * 4)
        var state: UInt64 = 42
        let data = (0..<(frames * 4)).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        return h + data
    }

    static func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func le16(_ v: Int) -> [UInt8] { (0..<2).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// The mono file built the slow way: header plus every other sample.
    static func model(_ stereo: [UInt8], channel: Int) -> [UInt8] {
        let size = ChannelView.size(stereoSize: Int64(stereo.count))
        var out = ChannelView.monoHeader(stereo: Array(stereo[0..<44]), monoSize: size)!
        var i = 44 + channel * 2
        while i + 1 < stereo.count { out += [stereo[i], stereo[i + 1]]; i += 4 }
        return out
    }

    @Test func headerDescribesAMonoFileOfTheSameRate() throws {
        let s = Self.stereo(frames: 1000, rate: 16000)
        let size = ChannelView.size(stereoSize: Int64(s.count))
        #expect(size == 44 + 2000)
        let h = try #require(ChannelView.monoHeader(stereo: Array(s[0..<44]), monoSize: size))
        #expect(h[22] == 1)                                    // channels
        #expect(Array(h[24..<28]) == Self.le32(16000))         // sample rate
        #expect(Array(h[28..<32]) == Self.le32(32000))         // byte rate
        #expect(Array(h[4..<8]) == Self.le32(Int(size) - 8))   // RIFF size
        #expect(Array(h[40..<44]) == Self.le32(2000))          // data size
    }

    @Test func notAStereoPCMWAVIsRefused() {
        var s = Self.stereo(frames: 10)
        s[22] = 1
        #expect(ChannelView.monoHeader(stereo: Array(s[0..<44]), monoSize: 64) == nil)
        #expect(ChannelView.monoHeader(stereo: Array(repeating: 0, count: 44), monoSize: 64) == nil)
    }

    @Test(arguments: [0, 1])
    func anyRangeEqualsTheModel(channel: Int) throws {
        let s = Self.stereo(frames: 50_000)
        let whole = Self.model(s, channel: channel)
        let size = Int64(whole.count)
        let header = Array(whole[0..<44])
        var rng = SystemRandomNumberGenerator()
        var stereoBytesRead = 0
        for _ in 0..<2000 {
            let offset = Int64.random(in: 0..<(size + 10), using: &rng)
            let count = Int.random(in: 0...70_000, using: &rng)
            stereoBytesRead = 0
            let got = try ChannelView.read(channel: channel, header: header, monoSize: size, offset: offset, count: count) { from, n in
                stereoBytesRead = n
                return Array(s[Int(from)..<min(s.count, Int(from) + n)])
            }
            let lo = Int(min(offset, size)), hi = Int(min(size, offset + Int64(count)))
            #expect(got == Array(whole[lo..<hi]))
            // It reads about twice the mono bytes asked for, not the whole recording.
            #expect(stereoBytesRead <= 2 * count + 4)
        }
    }
}
