// EncoderTests: exact WAV sizes and headers, MP3 size and length, the beep at 1 kHz at the start
// only, and MP3 probing (Info frame, ID3 tag, damage).

import Foundation
import RecordingCore
import RecordingStore
import Testing
@testable import RecordingEngine

struct WAVSizeTests {
    @Test(arguments: [(8000, 1_920_044), (16000, 3_840_044)])
    func sixtySecondDualWAVIsExactlyTheSizeThePCMNeeds(rate: Int, size: Int) throws {
        let (call, legs) = syntheticCall(seconds: 60, rate: rate, channels: .dual)
        let r = try #require(try RecordingEngine.render(call, legs: legs, settings: settings(call)).recording)
        #expect(r.bytes.count == size)
        let b = r.bytes
        func le32(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24 }
        func le16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        #expect(Array(b[0..<4]) == Array("RIFF".utf8) && le32(4) == size - 8 && Array(b[8..<16]) == Array("WAVEfmt ".utf8))
        #expect(le32(16) == 16 && le16(20) == 1, "PCM format tag 1")
        #expect(le16(22) == 2 && le32(24) == rate && le32(28) == rate * 4 && le16(32) == 4 && le16(34) == 16)
        #expect(Array(b[36..<40]) == Array("data".utf8) && le32(40) == size - 44)
    }

    @Test func sixtySecondMonoWAVIsHalfTheDual() throws {
        let (call, legs) = syntheticCall(seconds: 60)
        let r = try #require(try RecordingEngine.render(call, legs: legs, settings: settings(call) { $0.account.format = .wav }).recording)
        #expect(r.bytes.count == 960_044)
    }
}

struct MP3Tests {
    @Test(arguments: [8000, 16000])
    func sixtySecondDefaultMP3IsAboutOneMegabyte(rate: Int) throws {
        let (call, legs) = syntheticCall(seconds: 60, rate: rate, agent: { i in tone(i, 440, rate) }, customer: { i in tone(i, 700, rate) })
        let r = try #require(try RecordingEngine.render(call, legs: legs, settings: settings(call)).recording)
        #expect(r.format == .mp3 && r.channels == 1 && r.sampleRate == 16000)
        #expect((900_000...1_100_000).contains(r.bytes.count), "\(r.bytes.count) bytes")
        let info = try AudioProbe.probe(r.bytes, fileSize: r.bytes.count)
        #expect(info.format == .mp3 && info.channels == 1 && info.sampleRate == 16000)
        #expect(abs(info.durationMilliseconds - 60_000) <= 20, "\(info.durationMilliseconds) ms")
    }

    @Test func startsWithTheLAMEInfoFrameAndHasNoTags() throws {
        let r = try render(Sid.support)
        #expect(r.bytes[0] == 0xFF && r.bytes[1] & 0xE0 == 0xE0, "an MPEG frame at byte 0, no ID3v2 tag")
        let head = Array(r.bytes.prefix(200))
        #expect(head.firstRange(of: Array("Info".utf8)) != nil && head.firstRange(of: Array("LAME".utf8)) != nil)
        #expect(Array(r.bytes.suffix(128).prefix(3)) != Array("TAG".utf8), "no ID3v1 tag")
    }

    @Test(arguments: [(32, 16000), (48, 16000), (64, 16000), (160, 16000), (192, 32000), (320, 32000)])
    func bitrateSettingIsHonoured(kbps: Int, outputRate: Int) throws {
        let (call, legs) = syntheticCall(seconds: 10)
        let r = try #require(try RecordingEngine.render(call, legs: legs, settings: settings(call) { $0.account.mp3BitrateKbps = kbps }).recording)
        #expect(r.sampleRate == outputRate)
        let expected = Double(kbps * 1000 / 8 * 10)
        #expect(abs(Double(r.bytes.count) - expected) / expected < 0.05, "\(r.bytes.count) bytes for \(kbps) kbps")
        // Below 48 kbps a frame is too small for the Info frame: the length then includes lame's
        // encoder delay and padding (under 0.1 s).
        let tolerance: Int64 = kbps < 48 ? 100 : 20
        #expect(abs(try AudioProbe.probe(r.bytes, fileSize: r.bytes.count).durationMilliseconds - 10_000) <= tolerance)
    }

    @Test func id3TaggedMP3IsProbed() throws {
        let r = try render(Sid.support)
        let tag = Array("ID3".utf8) + [3, 0, 0, 0, 0, 0, 20] + [UInt8](repeating: 0, count: 20)
        #expect(try AudioProbe.probe(tag + r.bytes, fileSize: tag.count + r.bytes.count) == (try AudioProbe.probe(r.bytes, fileSize: r.bytes.count)))
    }

    @Test func damagedMP3StreamIsRefused() throws {
        let bytes = try render(Sid.support).bytes
        let middle = bytes.count / 2
        let damaged = Array(bytes[..<middle]) + [UInt8](repeating: 0, count: 700) + Array(bytes[middle...])
        #expect(throws: AudioProbeError.self) { _ = try AudioProbe.probe(damaged, fileSize: damaged.count) }
    }
}

struct BeepTests {
    /// 1 kHz power over total power in the first 0.5 s of channel 0.
    func beepShare(_ r: RenderedRecording) throws -> (share: Double, rest: [Int16]) {
        let (s, channels, rate) = try pcm(r.bytes)
        let c0 = channel(s, 0, of: channels)
        let head = c0[0..<(rate / 2)]
        return (2 * goertzel(head, hz: 1000, rate: rate) / max(1, meanPower(head)), Array(c0[(rate / 2)...]))
    }

    @Test(arguments: [Sid.dual, Sid.wideband])
    func beepIsAt1kHzInTheFirstHalfSecondOnlyWhenEnabled(sid: String) throws {
        let off = try beepShare(try render(sid) { $0.account.beep = false })
        let on = try beepShare(try render(sid) { $0.account.beep = true })
        #expect(on.share > 0.5, "1 kHz share with the beep: \(on.share)")
        #expect(off.share < 0.05, "1 kHz share without it: \(off.share)")
        #expect(on.rest == off.rest, "after 0.5 s the recordings are identical")
    }

    @Test func beepLastsAbout400ms() throws {
        let (call, legs) = syntheticCall(seconds: 3, agent: { _ in 0 }, customer: { _ in 0 })
        let r = try #require(try RecordingEngine.render(call, legs: legs, settings: settings(call) { $0.account.beep = true; $0.account.format = .wav }).recording)
        let s = try pcm(r.bytes).samples
        let last = try #require(s.lastIndex { $0 != 0 })
        #expect((3150...3200).contains(last), "tone ends at sample \(last) (400 ms = 3200)")
        #expect(goertzel(s[800..<2400], hz: 1000, rate: 8000) > 1_000_000)
        #expect(s.map { abs(Int32($0)) }.max()! <= Int32(Beep.amplitude))
    }

    @Test func beepIsInTheMP3Too() throws {
        let r = try render(Sid.support) { $0.account.beep = true }
        let tmp = Scratch()
        let path = try tmp.write("beep.mp3", r.bytes)
        let decoded = try run("ffmpeg", ["-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-ar", "16000", tmp.path + "/beep.raw"])
        #expect(decoded.status == 0, "\(decoded.err)")
        let raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: tmp.path + "/beep.raw")))
        let s = (0..<(raw.count / 2)).map { Int16(bitPattern: UInt16(raw[2 * $0]) | UInt16(raw[2 * $0 + 1]) << 8) }
        let head = s[0..<8000]
        #expect(2 * goertzel(head, hz: 1000, rate: 16000) / meanPower(head) > 0.5)
    }
}
