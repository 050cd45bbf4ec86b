// BlobStore: what every place that keeps encrypted recordings must do (local, S3, Azure, SFTP).

/// A place that keeps encrypted blobs under string keys (`ACCOUNT/2026/11/24/ID.rec`).
///
/// Contract: `put` makes a blob appear whole under its key or not at all; readers never see a
/// partial blob under its final name.
public protocol BlobStore: Sendable {
    /// A short name for messages and the catalog ("local:ap-south-1").
    var name: String { get }
    /// Stores the file at `stagedPath` under `key`, consuming the staged file.
    func put(_ key: String, stagedPath: String) throws
    /// Opens a blob for ranged reads.
    func open(_ key: String) throws -> any BlobReader
    /// The blob's size in bytes.
    func size(_ key: String) throws -> Int64
    /// Deletes a blob; deleting a missing blob is not an error.
    func delete(_ key: String) throws
    /// Every key under `prefix`.
    func list(prefix: String) throws -> [String]
    /// Replaces the first `bytes.count` bytes of a blob in place (key rotation rewrites headers).
    func rewriteHeader(_ key: String, _ bytes: [UInt8]) throws
}

/// An open blob. Thread safety: `read(at:into:)` may be called from several threads at once.
public protocol BlobReader: Sendable {
    var size: Int64 { get }
    /// Reads up to `buffer.count` bytes at `offset`; returns how many were read (fewer only at the end).
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// The blob's bytes in memory (a local file mapped read-only), when the store can give
    /// them without copying; nil otherwise.
    var mapped: UnsafeRawBufferPointer? { get }
}

extension BlobReader {
    public var mapped: UnsafeRawBufferPointer? { nil }
}

/// A blob that is not where the catalog says.
public struct BlobNotFound: Error, CustomStringConvertible {
    public let store: String
    public let key: String
    public var description: String { "blob \(key) is missing from \(store)" }
}
