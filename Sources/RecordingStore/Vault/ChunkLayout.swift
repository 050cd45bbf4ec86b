// ChunkLayout: where each plaintext byte lives in a blob, by arithmetic alone.

/// The arithmetic of a chunked blob: a header, then chunks of `chunkSize` plaintext bytes
/// each followed by its 16-byte tag; the last chunk may be shorter. An empty recording is one
/// empty chunk (a lone tag), so every blob ends in an authenticated "last" chunk.
public struct ChunkLayout: Equatable, Sendable {
    public let headerSize: Int64
    public let chunkSize: Int64
    public static let tagSize: Int64 = 16

    public init(headerSize: Int, chunkSize: Int) {
        precondition(chunkSize > 0 && headerSize >= 0)
        self.headerSize = Int64(headerSize)
        self.chunkSize = Int64(chunkSize)
    }

    /// Bytes a chunk takes in the blob when full.
    public var sealedChunkSize: Int64 { chunkSize + ChunkLayout.tagSize }

    /// Number of chunks holding `plaintextSize` bytes (at least one).
    public func chunkCount(plaintextSize: Int64) -> Int64 {
        max(1, (plaintextSize + chunkSize - 1) / chunkSize)
    }

    /// The blob size for a plaintext of `plaintextSize` bytes.
    public func blobSize(plaintextSize: Int64) -> Int64 {
        headerSize + plaintextSize + chunkCount(plaintextSize: plaintextSize) * ChunkLayout.tagSize
    }

    /// The plaintext size of a blob of `blobSize` bytes, or nil when no plaintext encrypts to
    /// that size (a truncated or padded blob).
    public func plaintextSize(blobSize: Int64) -> Int64? {
        let body = blobSize - headerSize
        guard body >= ChunkLayout.tagSize else { return nil }
        let chunks = (body + sealedChunkSize - 1) / sealedChunkSize
        let plaintext = body - chunks * ChunkLayout.tagSize
        guard plaintext >= 0, chunkCount(plaintextSize: plaintext) == chunks else { return nil }
        return plaintext
    }

    /// Where chunk `index` starts in the blob.
    public func blobOffset(ofChunk index: Int64) -> Int64 {
        headerSize + index * sealedChunkSize
    }

    /// Plaintext bytes held by chunk `index` of a recording of `plaintextSize` bytes.
    public func plaintextLength(ofChunk index: Int64, plaintextSize: Int64) -> Int64 {
        max(0, min(chunkSize, plaintextSize - index * chunkSize))
    }

    /// The chunks a plaintext byte range touches (empty for an empty range).
    public func chunks(covering range: Range<Int64>) -> Range<Int64> {
        guard !range.isEmpty else { return 0..<0 }
        return (range.lowerBound / chunkSize)..<((range.upperBound - 1) / chunkSize + 1)
    }
}
