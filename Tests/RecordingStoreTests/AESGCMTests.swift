// AESGCMTests: both AES-256-GCM implementations (recfs's VAES code and libcrypto) against the
// published test vectors, against each other on every length a chunk can have, and refusing
// altered input.

import Testing
@testable import RecordingStore

private func hex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var i = s.startIndex
    while i < s.endIndex {
        let j = s.index(i, offsetBy: 2)
        out.append(UInt8(s[i..<j], radix: 16)!)
        i = j
    }
    return out
}

/// Seals with `cipher`: ciphertext and tag.
private func seal(_ cipher: AESGCM, nonce: [UInt8], aad: [UInt8], _ plaintext: [UInt8]) throws -> ([UInt8], [UInt8]) {
    var out = [UInt8](repeating: 0, count: plaintext.count), tag = [UInt8](repeating: 0, count: 16)
    try nonce.withUnsafeBytes { n in
        try aad.withUnsafeBytes { a in
            try plaintext.withUnsafeBytes { p in
                try out.withUnsafeMutableBytes { o in
                    try tag.withUnsafeMutableBytes { t in
                        try cipher.seal(nonce: n.baseAddress!, aad: a, input: p.baseAddress, count: plaintext.count,
                                        output: o.baseAddress, tag: t.baseAddress!)
                    }
                }
            }
        }
    }
    return (out, tag)
}

/// Opens with `cipher`: the plaintext, or nil when it does not authenticate.
private func open(_ cipher: AESGCM, nonce: [UInt8], aad: [UInt8], _ ciphertext: [UInt8], tag: [UInt8]) throws -> [UInt8]? {
    var out = [UInt8](repeating: 0xAA, count: ciphertext.count)
    let ok = try nonce.withUnsafeBytes { n in
        try aad.withUnsafeBytes { a in
            try ciphertext.withUnsafeBytes { c in
                try out.withUnsafeMutableBytes { o in
                    try tag.withUnsafeBytes { t in
                        try cipher.open(nonce: n.baseAddress!, aad: a, input: c.baseAddress, count: ciphertext.count,
                                        output: o.baseAddress, tag: t.baseAddress!)
                    }
                }
            }
        }
    }
    return ok ? out : nil
}

/// The implementations this CPU runs (VAES only where it has the instructions).
private let implementations: [AESGCM.Implementation] = AESGCM.vaesAvailable ? [.vaes, .openssl] : [.openssl]

@Suite struct AESGCMTests {
    /// Test cases 13 to 16 of McGrew and Viega's GCM specification (AES-256).
    static let vectors: [(key: String, nonce: String, aad: String, plain: String, cipher: String, tag: String)] = [
        (String(repeating: "00", count: 32), String(repeating: "00", count: 12), "", "", "",
         "530f8afbc74536b9a963b4f1c4cb738b"),
        (String(repeating: "00", count: 32), String(repeating: "00", count: 12), "", String(repeating: "00", count: 16),
         "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"),
        ("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "",
         "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
         "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
         "b094dac5d93471bdec1a502270e3cc6c"),
        ("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
         "feedfacedeadbeeffeedfacedeadbeefabaddad2",
         "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
         "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
         "76fc6ece0f4e1768cddf8853bb2d551b"),
    ]

    @Test(arguments: implementations)
    func publishedVectors(_ implementation: AESGCM.Implementation) throws {
        for v in Self.vectors {
            let cipher = try AESGCM(key: hex(v.key), implementation: implementation)
            #expect(cipher.implementation == implementation)
            let (c, t) = try seal(cipher, nonce: hex(v.nonce), aad: hex(v.aad), hex(v.plain))
            #expect(c == hex(v.cipher))
            #expect(t == hex(v.tag))
            #expect(try open(cipher, nonce: hex(v.nonce), aad: hex(v.aad), hex(v.cipher), tag: hex(v.tag)) == hex(v.plain))
        }
    }

    /// Every length up to 1,100 bytes (each tail after the 256-byte steps), and chunk-sized ones,
    /// with associated data of every length up to 40: both implementations give the same bytes.
    @Test func implementationsAgree() throws {
        guard AESGCM.vaesAvailable else { return }
        var rng = SeededGenerator(seed: 7)
        let lengths = Array(0...1100) + [16383, 16384, 16385, 65520, 65536, 65536 + 17, 3 * 65536 + 255]
        for (i, length) in lengths.enumerated() {
            let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let nonce = (0..<12).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let aad = (0..<(i % 41)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let plain = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let fast = try AESGCM(key: key, implementation: .vaes), reference = try AESGCM(key: key, implementation: .openssl)
            let (c1, t1) = try seal(fast, nonce: nonce, aad: aad, plain)
            let (c2, t2) = try seal(reference, nonce: nonce, aad: aad, plain)
            #expect(c1 == c2 && t1 == t2, "sealing \(length) bytes with \(aad.count) of associated data")
            #expect(try open(fast, nonce: nonce, aad: aad, c2, tag: t2) == plain, "opening \(length) bytes")
            #expect(try open(reference, nonce: nonce, aad: aad, c1, tag: t1) == plain, "opening \(length) bytes")
        }
    }

    /// Any flipped bit of ciphertext, tag or associated data, or another nonce, fails to open;
    /// the fast path then leaves zeros, not unauthenticated plaintext.
    @Test(arguments: implementations)
    func alteredInputFails(_ implementation: AESGCM.Implementation) throws {
        var rng = SeededGenerator(seed: 11)
        let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let cipher = try AESGCM(key: key, implementation: implementation)
        for length in [1, 255, 256, 257, 4096, 65536] {
            let nonce = (0..<12).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let aad = Array("recording 42, chunk 3".utf8)
            let plain = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let (c, t) = try seal(cipher, nonce: nonce, aad: aad, plain)
            for _ in 0..<20 {
                var altered = c
                altered[Int.random(in: 0..<length, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng)
                #expect(try open(cipher, nonce: nonce, aad: aad, altered, tag: t) == nil)
            }
            var tag = t
            tag[Int.random(in: 0..<16, using: &rng)] ^= 0x80
            #expect(try open(cipher, nonce: nonce, aad: aad, c, tag: tag) == nil)
            var otherAAD = aad
            otherAAD[otherAAD.count - 1] ^= 1
            #expect(try open(cipher, nonce: nonce, aad: otherAAD, c, tag: t) == nil)
            var otherNonce = nonce
            otherNonce[0] ^= 1
            #expect(try open(cipher, nonce: otherNonce, aad: aad, c, tag: t) == nil)
            #expect(try open(cipher, nonce: nonce, aad: aad, c, tag: t) == plain)
        }
    }

    /// Sealing and opening in place (output over input) gives the same bytes as apart.
    @Test(arguments: implementations)
    func inPlace(_ implementation: AESGCM.Implementation) throws {
        var rng = SeededGenerator(seed: 13)
        let cipher = try AESGCM(key: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }, implementation: implementation)
        let nonce = [UInt8](repeating: 3, count: 12)
        for length in [0, 15, 256, 1000, 65536] {
            let plain = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let (c, t) = try seal(cipher, nonce: nonce, aad: [], plain)
            var buffer = plain, tag = [UInt8](repeating: 0, count: 16)
            try nonce.withUnsafeBytes { n in
                try buffer.withUnsafeMutableBytes { b in
                    try tag.withUnsafeMutableBytes { tg in
                        try cipher.seal(nonce: n.baseAddress!, aad: UnsafeRawBufferPointer(start: nil, count: 0),
                                        input: b.baseAddress, count: length, output: b.baseAddress, tag: tg.baseAddress!)
                    }
                }
            }
            #expect(buffer == c && tag == t)
            let ok = try nonce.withUnsafeBytes { n in
                try buffer.withUnsafeMutableBytes { b in
                    try tag.withUnsafeBytes { tg in
                        try cipher.open(nonce: n.baseAddress!, aad: UnsafeRawBufferPointer(start: nil, count: 0),
                                        input: b.baseAddress, count: length, output: b.baseAddress, tag: tg.baseAddress!)
                    }
                }
            }
            #expect(ok && buffer == plain)
        }
    }
}
