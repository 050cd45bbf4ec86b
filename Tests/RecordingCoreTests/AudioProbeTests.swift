// AudioProbeTests: AudioProbe reads the fixture legs as the manifest describes them and refuses damaged or foreign bytes
// (the engine's tests probe the MP3s it makes).

import Testing
@testable import RecordingCore

private func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
private func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16(v >> 16 & 0xFFFF) }

/// A RIFF/WAVE file: a `fmt ` chunk, optional chunks, then a data chunk declaring `declared` bytes and holding `data` bytes.
private func wavFile(tag: Int = 1, channels: Int = 1, rate: Int = 8000, bits: Int = 16, data: Int, declared: Int? = nil,
                     before: [(String, [UInt8])] = [], fmtAfterData: Bool = false) -> [UInt8] {
    let blockAlign = channels * bits / 8
    let fmtBody = le16(tag) + le16(channels) + le32(rate) + le32(rate * blockAlign) + le16(blockAlign) + le16(bits)
    func chunk(_ id: String, _ body: [UInt8], size: Int? = nil) -> [UInt8] {
        Array(id.utf8) + le32(size ?? body.count) + body + (body.count % 2 == 1 ? [0] : [])
    }
    let fmt = chunk("fmt ", fmtBody)
    let extra = before.flatMap { chunk($0.0, $0.1) }
    let dataChunk = Array("data".utf8) + le32(declared ?? data) + [UInt8](repeating: 0x11, count: data)
    let body = Array("WAVE".utf8) + (fmtAfterData ? extra + dataChunk + fmt : fmt + extra + dataChunk)
    return Array("RIFF".utf8) + le32(body.count) + body
}

private func probe(_ b: [UInt8], fileSize: Int? = nil) throws(AudioProbeError) -> AudioInfo {
    try AudioProbe.probe(b, fileSize: fileSize ?? b.count)
}

private func refusal(_ b: [UInt8], fileSize: Int? = nil) -> String? {
    do {
        let info = try probe(b, fileSize: fileSize)
        Issue.record("accepted as \(info)")
        return nil
    } catch {
        return error.reason
    }
}

private let rowsWithLegs = ManifestRow.all.filter { $0.legs != nil }

/// The fixture legs' paths (relative to fixtures/) of a call.
private func legPaths(_ row: ManifestRow) throws -> [String] {
    let call = try CallDescription.decode(try Fixtures.bytes("calls/\(row.sid).json"))
    return ["calls/\(try #require(call.agentLeg))", "calls/\(try #require(call.customerLeg))"]
}

struct FixtureLegTests {
    @Test func manifestHasNarrowbandAndWidebandLegs() {
        #expect(rowsWithLegs.count == 10)
        #expect(Set(rowsWithLegs.compactMap(\.legRate)) == [8000, 16000])
    }

    @Test(arguments: rowsWithLegs)
    func wavHeaderPrefixIsEnough(row: ManifestRow) throws {
        for path in try legPaths(row) {
            let bytes = try Fixtures.bytes(path)
            #expect(AudioProbe.isWAV(Array(bytes.prefix(12))))
            #expect(try probe(Array(bytes.prefix(64)), fileSize: bytes.count) == (try probe(bytes)))
            let layout = try AudioProbe.wavLayout(Array(bytes.prefix(64)), fileSize: bytes.count)
            #expect(layout.dataOffset == 44 && layout.dataSize == bytes.count - 44)
        }
    }

    @Test(arguments: rowsWithLegs)
    func legsAreMonoPCMOfTheAnsweredSpan(row: ManifestRow) throws {
        let call = try CallDescription.decode(try Fixtures.bytes("calls/\(row.sid).json"))
        let span = call.endedAt.milliseconds - (try #require(call.answeredAt)).milliseconds
        let paths = try legPaths(row)
        let agent = try probe(try Fixtures.bytes(paths[0]))
        let customer = try probe(try Fixtures.bytes(paths[1]))
        #expect(agent == customer)
        #expect(agent.format == .wav && agent.channels == 1 && agent.bitsPerSample == 16)
        #expect(agent.sampleRate == row.legRate)
        #expect(abs(agent.durationMilliseconds - span) <= 60, "\(agent.durationMilliseconds) ms vs \(span) ms")
    }
}

struct SyntheticWAVTests {
    @Test(arguments: [(1, 8000), (2, 8000), (2, 16000), (1, 48000), (2, 44100)])
    func pcmWAVIsProbed(channels: Int, rate: Int) throws {
        let seconds = 3
        let info = try probe(wavFile(channels: channels, rate: rate, data: rate * channels * 2 * seconds))
        #expect(info == AudioInfo(format: .wav, channels: channels, sampleRate: rate, bitsPerSample: 16,
                                  durationMilliseconds: Int64(seconds * 1000)))
    }

    @Test func chunksBeforeDataAreSkippedIncludingOddPadding() throws {
        let b = wavFile(data: 16000, before: [("LIST", Array("INFOISFT".utf8) + [1, 2, 3]), ("fact", le32(8000))])
        #expect(try probe(b).durationMilliseconds == 1000)
    }

    @Test func extensiblePCMIsAccepted() throws {
        #expect(try probe(wavFile(tag: 0xFFFE, channels: 2, data: 32000)).channels == 2)
    }

    @Test(arguments: [3, 6, 7, 0x55, 2, 0])
    func nonPCMTagIsRefused(tag: Int) throws {
        let reason = try #require(refusal(wavFile(tag: tag, data: 1600)))
        #expect(reason.contains("not PCM"), "\(reason)")
        #expect(reason.contains("\(tag)"))
    }

    @Test func truncatedDataChunkIsRefused() throws {
        let reason = try #require(refusal(wavFile(data: 1000, declared: 16000)))
        #expect(reason.contains("truncated"))
    }

    @Test func truncatedFixtureIsRefused() throws {
        let row = try #require(rowsWithLegs.first)
        let bytes = try Fixtures.bytes(try legPaths(row)[0])
        let half = Array(bytes.prefix(bytes.count / 2))
        #expect(try #require(refusal(half)).contains("truncated"))
        // A header prefix with the real size is fine; the same prefix claiming a shorter file is not.
        #expect(try #require(refusal(Array(bytes.prefix(44)), fileSize: bytes.count - 1)).contains("truncated"))
    }

    @Test(arguments: [(8, "8-bit"), (24, "24-bit"), (32, "32-bit")])
    func nonSixteenBitSamplesAreRefused(bits: Int, words: String) throws {
        #expect(try #require(refusal(wavFile(bits: bits, data: 1200))).contains(words))
    }

    @Test(arguments: [0, 3, 6])
    func channelCountOtherThanOneOrTwoIsRefused(channels: Int) throws {
        #expect(try #require(refusal(wavFile(channels: channels, data: 1200))).contains("channels"))
    }

    @Test(arguments: [11025, 12345, 96000, 0])
    func unsupportedRateIsRefused(rate: Int) throws {
        #expect(try #require(refusal(wavFile(rate: rate, data: 1200))).contains("sample rate"))
    }

    @Test func dataBeforeFmtIsRefused() throws {
        #expect(try #require(refusal(wavFile(data: 100, fmtAfterData: true))).contains("before its fmt"))
    }

    @Test func wavWithoutDataIsRefused() throws {
        let b = Array("RIFF".utf8) + le32(4) + Array("WAVE".utf8)
        #expect(try #require(refusal(b)).contains("no data chunk"))
        let shortFmt = Array("RIFF".utf8) + le32(16) + Array("WAVEfmt ".utf8) + le32(4) + [1, 0, 1, 0]
        #expect(refusal(shortFmt) != nil)
    }

    @Test func wavFmtChunkTooShortIsRefused() throws {
        let b = Array("RIFF".utf8) + le32(30) + Array("WAVE".utf8) + Array("fmt ".utf8) + le32(8) + [1, 0, 1, 0, 0x40, 0x1F, 0, 0]
            + Array("data".utf8) + le32(0)
        #expect(try #require(refusal(b)).contains("fmt chunk is too short"))
    }
}

struct ForeignBytesTests {
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func garbageIsRefused(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        var b = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }
        if b[0] == 0xFF || b[0] == 0x52 || b[0] == 0x49 { b[0] = 0x00 }  // not an MPEG sync, "RIFF" or "ID3"
        let reason = try #require(refusal(b))
        #expect(reason.contains("not a WAV or MP3 file"))
    }

    @Test(arguments: ["hello, world", "{\"callSid\": \"CA1\"}", "%PDF-1.7", "OggS\0\u{2}", "fLaC\0\0\0\u{22}"])
    func otherFormatsAreRefused(text: String) throws {
        #expect(refusal(Array(text.utf8)) != nil)
    }

    @Test func emptyFileIsRefused() {
        #expect(refusal([]) != nil)
    }

    @Test func id3TagWithoutFramesIsRefused() throws {
        let tag = Array("ID3".utf8) + [3, 0, 0, 0, 0, 0, 10] + [UInt8](repeating: 0, count: 10)
        #expect(try #require(refusal(tag)).contains("no frames"))
    }

    @Test func mpegLayerIIIsRefused() throws {
        // MPEG-1 layer II, 128 kbps, 44.1 kHz.
        let frame: [UInt8] = [0xFF, 0xFD, 0x90, 0x00] + [UInt8](repeating: 0, count: 413)
        #expect(try #require(refusal(frame + frame)).contains("not MPEG layer III"))
    }

    @Test func wavMagicAloneIsNotEnoughForIsWAV() {
        #expect(!AudioProbe.isWAV(Array("RIFF".utf8)))
        #expect(!AudioProbe.isWAV(Array("RIFF\0\0\0\0WAVX".utf8)))
        #expect(AudioProbe.isWAV(Array("RIFF\0\0\0\0WAVE".utf8)))
    }
}
