// BlobHeader: the versioned, self-describing header at the start of every encrypted blob.

/// The header of an encrypted recording blob (format version 1, 160 bytes):
///
/// ```
///   0   8  magic "RECFSBLB"
///   8   2  format version (big-endian), 1
///  10   2  header length, 160
///  12   1  algorithm, 1 = AES-256-GCM
///  13   1  log2 of the chunk size (14 = 16 KiB, the default; 16 = 64 KiB)
///  14   2  zero
///  16  16  recording id (random)
///  32   4  nonce salt (random); chunk i's nonce is salt ‖ i as 8 bytes big-endian
///  36  28  zero
///  -- bytes 0..<64 are bound into every chunk's tag --
///  64  16  account key id (ASCII, zero-padded)
///  80   2  wrapped data key length, 60
///  82  60  data key wrapped by the account key: nonce ‖ ciphertext ‖ tag
/// 142  18  zero
/// ```
/// Key rotation rewrites bytes 64..<142 only; audio chunks never change.
public struct BlobHeader: Equatable, Sendable {
    public static let magic = Array("RECFSBLB".utf8)
    public static let currentVersion: UInt16 = 1
    public static let size = 160
    public static let boundSize = 64
    public static let wrappedKeySize = 60
    public static let keyIdSize = 16
    static let algorithmAES256GCM: UInt8 = 1

    public var version: UInt16
    public var chunkShift: UInt8
    public var recordingId: [UInt8]
    public var nonceSalt: [UInt8]
    public var keyId: String
    public var wrappedKey: [UInt8]

    public init(chunkShift: UInt8, recordingId: [UInt8], nonceSalt: [UInt8], keyId: String, wrappedKey: [UInt8]) {
        self.version = BlobHeader.currentVersion
        self.chunkShift = chunkShift
        self.recordingId = recordingId
        self.nonceSalt = nonceSalt
        self.keyId = keyId
        self.wrappedKey = wrappedKey
    }

    public var chunkSize: Int { 1 << Int(chunkShift) }
    public var layout: ChunkLayout { ChunkLayout(headerSize: BlobHeader.size, chunkSize: chunkSize) }

    /// The header's bytes.
    public func encoded() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: BlobHeader.size)
        b.replaceSubrange(0..<8, with: BlobHeader.magic)
        b[8] = UInt8(version >> 8); b[9] = UInt8(version & 0xFF)
        b[10] = UInt8(BlobHeader.size >> 8); b[11] = UInt8(BlobHeader.size & 0xFF)
        b[12] = BlobHeader.algorithmAES256GCM
        b[13] = chunkShift
        b.replaceSubrange(16..<32, with: recordingId)
        b.replaceSubrange(32..<36, with: nonceSalt)
        let id = Array(keyId.utf8.prefix(BlobHeader.keyIdSize))
        b.replaceSubrange(64..<(64 + id.count), with: id)
        b[80] = 0; b[81] = UInt8(BlobHeader.wrappedKeySize)
        b.replaceSubrange(82..<(82 + BlobHeader.wrappedKeySize), with: wrappedKey)
        return b
    }

    /// Why a header cannot be read.
    public enum DecodeError: Error, Equatable, CustomStringConvertible {
        case tooShort(Int)
        case notARecordingBlob
        case unsupportedVersion(UInt16)
        case malformed(String)

        public var description: String {
            switch self {
            case .tooShort(let n): return "blob is \(n) bytes, shorter than its header"
            case .notARecordingBlob: return "not a recfs recording blob (bad magic)"
            case .unsupportedVersion(let v): return "blob format version \(v) is newer than this recfs understands (\(BlobHeader.currentVersion))"
            case .malformed(let what): return "malformed blob header: \(what)"
            }
        }
    }

    /// Parses and checks a header; every reserved byte must be zero.
    public init(decoding b: [UInt8]) throws(DecodeError) {
        guard b.count >= 12 else { throw .tooShort(b.count) }
        guard Array(b[0..<8]) == BlobHeader.magic else { throw .notARecordingBlob }
        let version = UInt16(b[8]) << 8 | UInt16(b[9])
        guard version == 1 else { throw .unsupportedVersion(version) }
        guard b.count >= BlobHeader.size else { throw .tooShort(b.count) }
        guard Int(b[10]) << 8 | Int(b[11]) == BlobHeader.size else { throw .malformed("header length") }
        guard b[12] == BlobHeader.algorithmAES256GCM else { throw .malformed("unknown algorithm \(b[12])") }
        guard (12...24).contains(b[13]) else { throw .malformed("chunk size 2^\(b[13])") }
        guard b[14] == 0, b[15] == 0, b[36..<64].allSatisfy({ $0 == 0 }), b[142..<160].allSatisfy({ $0 == 0 }) else {
            throw .malformed("reserved bytes are not zero")
        }
        guard Int(b[80]) << 8 | Int(b[81]) == BlobHeader.wrappedKeySize else { throw .malformed("wrapped key length") }
        let idBytes = b[64..<80].prefix { $0 != 0 }
        guard b[(64 + idBytes.count)..<80].allSatisfy({ $0 == 0 }),
              let keyId = String(validating: Array(idBytes), as: UTF8.self), !keyId.isEmpty else {
            throw .malformed("key id")
        }
        self.version = version
        self.chunkShift = b[13]
        self.recordingId = Array(b[16..<32])
        self.nonceSalt = Array(b[32..<36])
        self.keyId = keyId
        self.wrappedKey = Array(b[82..<142])
    }
}
