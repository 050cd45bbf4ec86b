// Vault+Plaintext: sealing a recording held in memory (the engine's output) into a staged blob,
// the same format as sealing from a file.

import Glibc

extension Vault {
    /// Encrypts `plaintext` into a new file at `stagedPath` (synced before it returns) and
    /// computes the plaintext's SHA-256 on the way. The staged file is removed on failure.
    public func seal(plaintext: [UInt8], stagedPath: String) throws -> SealedRecording {
        let plaintextSize = Int64(plaintext.count)
        let recordingId = SecureRandom.bytes(16)
        let dataKey = SecureRandom.bytes(32)
        let keyId = try keys.activeKeyId()
        let wrapped = try wrap(dataKey, recordingId: recordingId, keyId: keyId)
        let header = BlobHeader(chunkShift: chunkShift, recordingId: recordingId, nonceSalt: SecureRandom.bytes(4),
                                keyId: keyId, wrappedKey: wrapped)
        let layout = header.layout
        let chunkBytes = Int(layout.chunkSize)
        let cipher = try AESGCM(key: dataKey)
        let context = ChunkContext(header: header)
        defer { context.release() }
        let hasher = SHA256Hasher()

        let out = try SystemError.check("open", stagedPath) { Glibc.open(stagedPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        var keepStaged = false
        defer {
            close(out)
            if !keepStaged { unlink(stagedPath) }
        }
        try Files.writeAll(out, header.encoded(), path: stagedPath)

        let batchChunks = max(1, (1 << 20) / chunkBytes)
        let chunkCount = layout.chunkCount(plaintextSize: plaintextSize)
        let sealed = UnsafeMutableRawBufferPointer.allocate(byteCount: batchChunks * Int(layout.sealedChunkSize), alignment: 64)
        defer { sealed.deallocate() }
        try plaintext.withUnsafeBytes { plain in
            hasher.update(plain)
            var chunk: Int64 = 0
            while chunk < chunkCount {
                let n = Int(min(Int64(batchChunks), chunkCount - chunk))
                var sealedBytes = 0
                for i in 0..<n {
                    let index = chunk + Int64(i)
                    let length = Int(layout.plaintextLength(ofChunk: index, plaintextSize: plaintextSize))
                    let input = plain.baseAddress.map { $0 + Int(index) * chunkBytes } ?? UnsafeRawPointer(sealed.baseAddress!)
                    try context.seal(cipher, index: index, last: index == chunkCount - 1, input: input, count: length,
                                     output: sealed.baseAddress! + sealedBytes)
                    sealedBytes += length + AESGCM.tagSize
                }
                try Files.writeAll(out, UnsafeRawBufferPointer(rebasing: sealed[0..<sealedBytes]), path: stagedPath)
                chunk += Int64(n)
            }
        }
        try SystemError.check("fsync", stagedPath) { fsync(out) }
        keepStaged = true
        return SealedRecording(recordingId: Hex.encode(recordingId), keyId: keyId, wrappedKey: wrapped,
                               chunkSize: chunkBytes, plaintextSize: plaintextSize,
                               blobSize: layout.blobSize(plaintextSize: plaintextSize), sha256: hasher.finalizeHex())
    }
}
