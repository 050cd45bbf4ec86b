// Covers encryption at rest: no blob (nor any other store file) holds a WAV/MP3 header or any 64-byte run of an ingested recording.

import Foundation
import Testing

/// Finds 64-byte windows of a needle inside haystacks: every window of every haystack goes into
/// a set of rolling hashes, so each needle window costs one lookup (hits are confirmed bytewise).
struct WindowIndex {
    static let width = 64
    private static let base: UInt64 = 1_099_511_628_211
    private static let topPower: UInt64 = {
        var p: UInt64 = 1
        for _ in 0..<(width - 1) { p = p &* base }
        return p
    }()
    private var hashes = Set<UInt64>()
    private var haystacks: [[UInt8]] = []

    init(_ haystacks: [[UInt8]]) {
        self.haystacks = haystacks
        for h in haystacks where h.count >= Self.width {
            var hash = Self.hash(h, at: 0)
            hashes.insert(hash)
            var i = 1
            while i + Self.width <= h.count {
                hash = (hash &- UInt64(h[i - 1]) &* Self.topPower) &* Self.base &+ UInt64(h[i + Self.width - 1])
                hashes.insert(hash)
                i += 1
            }
        }
    }

    private static func hash(_ b: [UInt8], at start: Int) -> UInt64 {
        var x: UInt64 = 0
        for i in start..<(start + width) { x = x &* base &+ UInt64(b[i]) }
        return x
    }

    /// Offsets (multiples of `stride`) of `needle` windows found verbatim in some haystack;
    /// windows with fewer than `minDistinct` different byte values (silence) are skipped.
    func leaks(of needle: [UInt8], stride: Int, minDistinct: Int = 0) -> [Int] {
        var found: [Int] = []
        var start = 0
        while start + Self.width <= needle.count {
            defer { start += stride }
            if minDistinct > 0 && Set(needle[start..<(start + Self.width)]).count < minDistinct { continue }
            if hashes.contains(Self.hash(needle, at: start)) {
                let window = needle[start..<(start + Self.width)]
                if haystacks.contains(where: { Self.contains($0, window) }) { found.append(start) }
            }
        }
        return found
    }

    private static func contains(_ hay: [UInt8], _ window: ArraySlice<UInt8>) -> Bool {
        guard hay.count >= window.count else { return false }
        let first = window.first!
        for i in 0...(hay.count - window.count) where hay[i] == first {
            if hay[i..<(i + window.count)].elementsEqual(window) { return true }
        }
        return false
    }
}

/// Whether `bytes` holds `pattern` anywhere (`nil` in the pattern matches any byte).
func holds(_ bytes: [UInt8], _ pattern: [UInt8?]) -> Bool {
    guard bytes.count >= pattern.count else { return false }
    outer: for i in 0...(bytes.count - pattern.count) {
        for (j, p) in pattern.enumerated() where p != nil && bytes[i + j] != p! { continue outer }
        return true
    }
    return false
}

@Suite("no plaintext at rest")
struct NoPlaintextTests {
    /// The header signatures of the fixtures' containers. Longer than "RIFF" / "ID3" alone so that
    /// ciphertext (random bytes) cannot match by chance: "ID3" alone turns up in ~4% of 600 KB of
    /// random data; "RIFF" at 1 in 7,000 runs. A RIFF/WAVE header and an ID3v2.3/2.4 tag header never do.
    static let riffWave: [UInt8?] = Array("RIFF".utf8) + [nil, nil, nil, nil] + Array("WAVE".utf8)
    static let wavFmt: [UInt8?] = Array("WAVEfmt ".utf8)
    static let id3v23: [UInt8?] = Array("ID3".utf8) + [3, 0]
    static let id3v24: [UInt8?] = Array("ID3".utf8) + [4, 0]
    /// The engine's MP3s start with LAME's Info frame, which names the encoder.
    static let lameTag: [UInt8?] = Array("LAME3.".utf8)

    @Test("the detectors find plaintext where it is (so their silence on blobs means something)")
    func detectorsWork() throws {
        let wav = [UInt8](try Fixtures.recording(Fixtures.dualSid))
        let mp3 = [UInt8](try Fixtures.recording("CAe6fc0ee8f7446afa7c080aa5e6ee6501"))
        #expect(holds(wav, Self.riffWave) && holds(wav, Self.wavFmt))
        #expect(holds(mp3, Self.lameTag))
        let tagged = Array("ID3".utf8) + [3, 0, 0, 0, 0, 0, 0] + mp3
        #expect(holds(tagged, Self.id3v23) && !holds(tagged, Self.id3v24))
        // A run of the WAV hidden at an odd offset inside noise is found.
        var noise = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        noise.insert(contentsOf: wav[70_001..<70_301], at: 12_345)
        let index = WindowIndex([noise])
        #expect(!index.leaks(of: wav, stride: 16).isEmpty)
        #expect(WindowIndex([Array(noise[0..<12_345])]).leaks(of: wav, stride: 16).isEmpty)
    }

    @Test("no file under STORE/blobs holds RIFF/WAVE, an ID3 tag or any 64-byte run of a recording")
    func blobsHoldNoPlaintext() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp)

        let blobPaths = StoreHelper.blobFiles(store)
        #expect(blobPaths.count == Fixtures.recorded.count, "one blob per recording: \(blobPaths)")
        let blobs = try blobPaths.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0))) }
        for (path, bytes) in zip(blobPaths, blobs) {
            #expect(Array(bytes.prefix(8)) == Array("RECFSBLB".utf8), "\(path) is not a recfs blob")
            #expect(!holds(bytes, Self.riffWave), "\(path) holds a RIFF/WAVE header")
            #expect(!holds(bytes, Self.wavFmt), "\(path) holds a WAVE fmt chunk")
            #expect(!holds(bytes, Self.id3v23) && !holds(bytes, Self.id3v24), "\(path) holds an ID3 tag header")
            #expect(!holds(bytes, Self.lameTag), "\(path) holds an MP3 Info frame")
        }

        // Every 64-byte window, at a stride of 16, of every ingested recording, against every
        // byte offset of every blob. The other store files (catalog, WAL, key file) hold runs of
        // zeros as any file does, so there only windows that are not near-silence count.
        let blobIndex = WindowIndex(blobs)
        let others = StoreHelper.files(under: store).map { store + "/" + $0 }.filter { !blobPaths.contains($0) }
        #expect(others.contains { $0.hasSuffix("catalog.sqlite") })
        let otherIndex = WindowIndex(try others.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0))) })
        for sid in Fixtures.recorded.keys.sorted() {
            let plaintext = [UInt8](try Fixtures.recording(sid))
            let leaks = blobIndex.leaks(of: plaintext, stride: 16)
            #expect(leaks.isEmpty, "plaintext of \(sid) found in a blob at recording offsets \(leaks.prefix(10))…")
            let elsewhere = otherIndex.leaks(of: plaintext, stride: 16, minDistinct: 16)
            #expect(elsewhere.isEmpty, "plaintext of \(sid) found in \(others) at recording offsets \(elsewhere.prefix(10))…")
        }
        // The calls without recordings left no blob behind.
        #expect(StoreHelper.files(under: store + "/staging").isEmpty)
    }
}
