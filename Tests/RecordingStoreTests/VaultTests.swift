// VaultTests: envelope encryption: round trips, ranged reads, and every kind of tampering.

import Foundation
import Glibc
import Testing
@testable import RecordingStore

/// A sealed recording in a local blob store, ready to tamper with.
struct SealedFixture {
    let folder = TemporaryFolder()
    let vault: Vault
    let store: LocalBlobStore
    let key: String
    let sealed: SealedRecording
    let plaintext: [UInt8]
    var blobPath: String { store.root + "/" + key }

    init(size: Int, seed: UInt64, keys: MemoryKeys = MemoryKeys(), chunkShift: UInt8 = 16) throws {
        var rng = SeededGenerator(seed: seed)
        plaintext = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
        vault = Vault(keys: keys, chunkShift: chunkShift)
        store = LocalBlobStore(root: folder.path + "/blobs", name: "test")
        let input = folder.path + "/plain"
        try writeFile(input, plaintext)
        let fd = open(input, O_RDONLY)
        defer { close(fd) }
        sealed = try vault.seal(input: fd, inputPath: input, stagedPath: folder.path + "/staged")
        key = "A/\(sealed.recordingId).rec"
        try store.put(key, stagedPath: folder.path + "/staged")
    }

    func reader() throws -> RecordingReader {
        try vault.open(try store.open(key), recordingId: sealed.recordingId, keyId: sealed.keyId,
                       wrappedKey: sealed.wrappedKey, plaintextSize: sealed.plaintextSize, subject: "call CAtest")
    }

    func readAll() throws -> [UInt8] {
        var out: [UInt8] = []
        try reader().read(0..<sealed.plaintextSize) { out += $0 }
        return out
    }
}

@Suite struct VaultTests {
    @Test(arguments: [0, 1, 4095, 65536, 65537, 3 * 65536 + 5, 5 << 20])
    func roundTrip(size: Int) throws {
        let f = try SealedFixture(size: size, seed: UInt64(size))
        #expect(try f.readAll() == f.plaintext)
        #expect(f.sealed.plaintextSize == Int64(size))
        #expect(try f.store.size(f.key) == f.sealed.blobSize)
        let sha = SHA256Hasher()
        sha.update(f.plaintext)
        #expect(f.sealed.sha256 == sha.finalizeHex())
    }

    @Test func blobHoldsNoPlaintext() throws {
        var plain = Array("RIFF".utf8) + [UInt8](repeating: 0, count: 70_000)
        plain += Array("ID3".utf8)
        let folder = TemporaryFolder()
        let vault = Vault(keys: MemoryKeys())
        try writeFile(folder.path + "/p", plain)
        let fd = open(folder.path + "/p", O_RDONLY)
        defer { close(fd) }
        _ = try vault.seal(input: fd, inputPath: folder.path + "/p", stagedPath: folder.path + "/s")
        let blob = try readFile(folder.path + "/s")
        let text = Data(blob)
        #expect(text.range(of: Data("RIFF".utf8)) == nil)
        #expect(text.range(of: Data("ID3".utf8)) == nil)
        // A run of zeros would betray an unencrypted silent stretch.
        #expect(text.range(of: Data(repeating: 0, count: 64)) == nil)
    }

    @Test func randomRangesEqualTheirSlices() throws {
        let f = try SealedFixture(size: 3 << 20 | 12345, seed: 3)
        let reader = try f.reader()
        var rng = SeededGenerator(seed: 99)
        for _ in 0..<1000 {
            let start = Int.random(in: 0..<f.plaintext.count, using: &rng)
            let length = Int.random(in: 0...(1 << Int.random(in: 0...21, using: &rng)), using: &rng)
            var buffer = [UInt8](repeating: 0, count: length)
            let n = try buffer.withUnsafeMutableBytes { try reader.read(at: Int64(start), into: $0) }
            let expected = Array(f.plaintext[start..<min(f.plaintext.count, start + length)])
            #expect(n == expected.count)
            #expect(Array(buffer[0..<n]) == expected)
        }
    }

    @Test func aFourKibibyteReadAuthenticatesAtMostTwoChunks() throws {
        let f = try SealedFixture(size: 1 << 20, seed: 4)
        for start in [0, 65536 - 100, 500_000, (1 << 20) - 4096] {
            let reader = try f.reader()
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = try buffer.withUnsafeMutableBytes { try reader.read(at: Int64(start), into: $0) }
            #expect(reader.chunksDecrypted <= 2)
        }
    }

    @Test func eachRecordingHasItsOwnDataKey() throws {
        let keys = MemoryKeys()
        let a = try SealedFixture(size: 1000, seed: 1, keys: keys)
        let b = try SealedFixture(size: 1000, seed: 1, keys: keys)
        #expect(a.plaintext == b.plaintext)
        #expect(a.sealed.wrappedKey != b.sealed.wrappedKey)
        #expect(try readFile(a.blobPath)[160...] != readFile(b.blobPath)[160...])
    }

    func expectIntegrityFailure(_ f: SealedFixture, _ comment: Comment) {
        #expect(throws: IntegrityError.self, comment) { _ = try f.readAll() }
    }

    @Test func flippedByteIsDetectedAnywhere() throws {
        let f = try SealedFixture(size: 200_000, seed: 5)
        let original = try readFile(f.blobPath)
        var rng = SeededGenerator(seed: 6)
        var offsets = [0, 12, 13, 20, 40, 63, 64, 70, 100, 141, 150, 159, 160, original.count - 1]
        offsets += (0..<40).map { _ in Int.random(in: 0..<original.count, using: &rng) }
        for offset in offsets {
            var damaged = original
            damaged[offset] ^= 0x01
            try writeFile(f.blobPath, damaged)
            #expect(throws: (any Error).self, "byte \(offset) flipped") { _ = try f.readAll() }
        }
        try writeFile(f.blobPath, original)
        #expect(try f.readAll() == f.plaintext)
    }

    @Test func truncationIsDetected() throws {
        let f = try SealedFixture(size: 200_000, seed: 7)
        let original = try readFile(f.blobPath)
        let chunk = 65536 + 16
        // Mid-chunk, exactly at a chunk boundary (dropping the last chunk), and down to the header.
        for cut in [100, original.count - (200_000 - 3 * 65536) - 16, original.count - 1, original.count - 160 - chunk] {
            try writeFile(f.blobPath, Array(original[0..<(original.count - cut)]))
            expectIntegrityFailure(f, "truncated by \(cut)")
        }
    }

    @Test func truncationAtAChunkBoundaryIsDetectedEvenWithAMatchingSize() throws {
        // A blob cut after a full chunk has a valid-looking size for a shorter recording; the
        // "last chunk" flag still exposes it when the catalog is told that shorter size.
        let f = try SealedFixture(size: 3 * 65536, seed: 8)
        let original = try readFile(f.blobPath)
        let cut = Array(original[0..<(160 + 2 * (65536 + 16))])
        try writeFile(f.blobPath, cut)
        let reader = try f.vault.open(try f.store.open(f.key), recordingId: f.sealed.recordingId, keyId: f.sealed.keyId,
                                      wrappedKey: f.sealed.wrappedKey, plaintextSize: 2 * 65536, subject: "call CAtest")
        #expect(throws: IntegrityError.self) { try reader.read(0..<(2 * 65536)) { _ in } }
    }

    @Test func swappedChunksAreDetected() throws {
        let f = try SealedFixture(size: 4 * 65536, seed: 9)
        var blob = try readFile(f.blobPath)
        let c = 65536 + 16
        let first = Array(blob[160..<(160 + c)]), second = Array(blob[(160 + c)..<(160 + 2 * c)])
        blob.replaceSubrange(160..<(160 + c), with: second)
        blob.replaceSubrange((160 + c)..<(160 + 2 * c), with: first)
        try writeFile(f.blobPath, blob)
        expectIntegrityFailure(f, "chunks 0 and 1 swapped")
    }

    @Test func chunkSplicedFromAnotherRecordingIsDetected() throws {
        let keys = MemoryKeys()
        let a = try SealedFixture(size: 3 * 65536, seed: 10, keys: keys)
        let b = try SealedFixture(size: 3 * 65536, seed: 11, keys: keys)
        var blob = try readFile(a.blobPath)
        let other = try readFile(b.blobPath)
        let c = 65536 + 16
        blob.replaceSubrange((160 + c)..<(160 + 2 * c), with: other[(160 + c)..<(160 + 2 * c)])
        try writeFile(a.blobPath, blob)
        expectIntegrityFailure(a, "chunk 1 from another recording")
        // Nor does a whole blob pass for another recording's.
        try writeFile(a.blobPath, other)
        expectIntegrityFailure(a, "another recording's blob")
    }

    @Test func wrongAccountKeyCannotUnwrap() throws {
        let f = try SealedFixture(size: 1000, seed: 12)
        let strangers = MemoryKeys()
        strangers.keys = [(f.sealed.keyId, SecureRandom.bytes(32))]
        let vault = Vault(keys: strangers)
        #expect(throws: IntegrityError.self) {
            _ = try vault.open(try f.store.open(f.key), recordingId: f.sealed.recordingId, keyId: f.sealed.keyId,
                               wrappedKey: f.sealed.wrappedKey, plaintextSize: f.sealed.plaintextSize, subject: "call CAtest")
        }
    }

    @Test func headerDescribesItself() throws {
        let f = try SealedFixture(size: 1000, seed: 13)
        let header = try BlobHeader(decoding: Array(try readFile(f.blobPath)[0..<160]))
        #expect(header.version == 1)
        #expect(header.chunkSize == 65536)
        #expect(Hex.encode(header.recordingId) == f.sealed.recordingId)
        #expect(header.keyId == f.sealed.keyId)
        #expect(header.wrappedKey == f.sealed.wrappedKey)
        var future = try readFile(f.blobPath)
        future[9] = 2
        #expect(throws: BlobHeader.DecodeError.unsupportedVersion(2)) { _ = try BlobHeader(decoding: Array(future[0..<160])) }
    }
}
