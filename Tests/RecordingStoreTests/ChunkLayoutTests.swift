// ChunkLayoutTests: the blob arithmetic, checked exhaustively near edges and randomly elsewhere.

import Testing
@testable import RecordingStore

@Suite struct ChunkLayoutTests {
    let layout = ChunkLayout(headerSize: BlobHeader.size, chunkSize: 1 << 16)

    @Test func emptyRecordingIsOneEmptyChunk() {
        #expect(layout.chunkCount(plaintextSize: 0) == 1)
        #expect(layout.blobSize(plaintextSize: 0) == 160 + 16)
        #expect(layout.plaintextSize(blobSize: 176) == 0)
    }

    @Test func sizesNearChunkBoundaries() {
        for p: Int64 in [1, 65535, 65536, 65537, 131_071, 131_072, 131_073] {
            let blob = layout.blobSize(plaintextSize: p)
            #expect(blob == 160 + p + 16 * ((p + 65535) / 65536))
            #expect(layout.plaintextSize(blobSize: blob) == p)
        }
    }

    @Test func impossibleBlobSizesAreRejected() {
        // Shorter than a header and a tag; a last chunk of fewer than 16 bytes; a trailing lone tag.
        for blob: Int64 in [0, 100, 160, 175] { #expect(layout.plaintextSize(blobSize: blob) == nil) }
        let oneFull = layout.blobSize(plaintextSize: 65536)
        for extra: Int64 in 1...16 { #expect(layout.plaintextSize(blobSize: oneFull + extra) == nil) }
    }

    @Test(arguments: [12, 14, 16, 18, 20])
    func blobSizeAndPlaintextSizeAreInverse(shift: Int) {
        let l = ChunkLayout(headerSize: BlobHeader.size, chunkSize: 1 << shift)
        var rng = SeededGenerator(seed: UInt64(shift))
        for _ in 0..<20_000 {
            let p = Int64.random(in: 0...(1 << 34), using: &rng) >> Int64.random(in: 0...30, using: &rng)
            let blob = l.blobSize(plaintextSize: p)
            #expect(l.plaintextSize(blobSize: blob) == p)
            // Every blob size maps to at most one plaintext size, and back to itself.
            let probe = blob + Int64.random(in: -40...40, using: &rng)
            if let q = l.plaintextSize(blobSize: probe) { #expect(l.blobSize(plaintextSize: q) == probe) }
        }
    }

    @Test func chunksCoveringRandomRanges() {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<50_000 {
            let size = Int64.random(in: 1...(1 << 30), using: &rng)
            let start = Int64.random(in: 0..<size, using: &rng)
            let length = Int64.random(in: 1...(1 << Int64.random(in: 0...22, using: &rng)), using: &rng)
            let range = start..<min(size, start + length)
            let chunks = layout.chunks(covering: range)
            // The chunks cover the range, and no chunk is spare at either end.
            #expect(chunks.lowerBound * layout.chunkSize <= range.lowerBound)
            #expect(chunks.upperBound * layout.chunkSize >= range.upperBound)
            #expect((chunks.lowerBound + 1) * layout.chunkSize > range.lowerBound)
            #expect((chunks.upperBound - 1) * layout.chunkSize < range.upperBound)
            #expect(chunks.upperBound <= layout.chunkCount(plaintextSize: size))
            // Plaintext of the covered chunks adds up to what they span.
            let held = chunks.reduce(Int64(0)) { $0 + layout.plaintextLength(ofChunk: $1, plaintextSize: size) }
            #expect(held == min(size, chunks.upperBound * layout.chunkSize) - chunks.lowerBound * layout.chunkSize)
        }
    }

    @Test func aFourKibibyteRangeTouchesAtMostTwoChunks() {
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<100_000 {
            let start = Int64.random(in: 0...(1 << 32), using: &rng)
            #expect(layout.chunks(covering: start..<(start + 4096)).count <= 2)
        }
        #expect(layout.chunks(covering: 0..<4096).count == 1)
        #expect(layout.chunks(covering: 65534..<(65534 + 4096)).count == 2)
    }

    @Test func emptyRangeTouchesNothing() {
        #expect(layout.chunks(covering: 5..<5).isEmpty)
    }
}
