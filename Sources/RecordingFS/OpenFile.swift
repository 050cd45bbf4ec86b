// OpenFile: an open file of the mount and its reads. Recordings decrypt only the chunks a read
// touches; the kernel keeps their pages across opens since contents never change.

import Foundation
import Glibc
import RecordingCore
import RecordingStore

/// An open file: the recording it reads and how.
final class OpenFile: @unchecked Sendable {
    enum Content {
        case recording(RecordingReader)
        case channel(RecordingReader, channel: Int, header: [UInt8], size: Int64)
        case bytes([UInt8])
    }

    let row: RecordingRow
    let content: Content
    /// Serialises reads: a reader owns its cipher contexts and buffers.
    let lock = NSLock()

    init(row: RecordingRow, content: Content) {
        self.row = row
        self.content = content
    }
}

extension RecordingFileSystem {
    /// Opens a file for reading. Writing is refused: the recording tree is read-only.
    public func open(_ inode: UInt64, flags: Int32, caller: Caller = .process) throws(FSError) -> UInt64 {
        guard let node = Node(inode: inode) else { throw .noEntry }
        if case .settings(let s) = node { return try settings.open(s, flags: flags, caller: caller) }
        guard case let .file(number, kind) = node else { throw .isDirectory }
        if flags & O_ACCMODE != O_RDONLY || flags & (O_TRUNC | O_APPEND | O_CREAT) != 0 { throw .readOnly }
        let file = try guarded("open") { () throws -> OpenFile in
            guard let r = try store.recording(number: number, now: now) else { throw FSError.noEntry }
            switch kind {
            case .recording:
                return OpenFile(row: r, content: .recording(try store.openRecording(r)))
            case .agent, .customer:
                guard r.channels == 2 else { throw FSError.noEntry }
                let reader = try store.openRecording(r)
                var stereoHeader = [UInt8](repeating: 0, count: 44)
                _ = try stereoHeader.withUnsafeMutableBytes { try reader.read(at: 0, into: $0) }
                let size = ChannelView.size(stereoSize: r.plaintextSize)
                guard let header = ChannelView.monoHeader(stereo: stereoHeader, monoSize: size) else {
                    throw StoreError("call \(r.callSid): the dual-channel recording is not a canonical 16-bit stereo WAV")
                }
                return OpenFile(row: r, content: .channel(reader, channel: kind == .agent ? 0 : 1, header: header, size: size))
            case .callJSON:
                return OpenFile(row: r, content: .bytes(try store.callDocument(r)))
            }
        }
        return files.insert(file)
    }

    /// Reads up to `count` bytes at `offset` into `buffer`; returns how many (0 at the end).
    public func read(_ handle: UInt64, offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(FSError) -> Int {
        if handle & SettingsTree.handleBit != 0 { return try settings.read(handle, offset: offset, into: buffer) }
        guard let file = files.get(handle) else { throw .badHandle }
        return try guarded("read of call \(file.row.callSid)") { () throws -> Int in
            do {
                return try read(file, offset: offset, into: buffer)
            } catch let error as IntegrityError {
                try? store.recordIntegrityFailure(file.row, error)
                throw error
            }
        }
    }

    private func read(_ file: OpenFile, offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        // Whole-chunk reads (readahead) run side by side, even on one open file.
        if case .recording(let reader) = file.content, let n = try reader.readChunks(at: offset, into: buffer) { return n }
        return try file.lock.withLock {
                switch file.content {
                case .recording(let reader):
                    return try reader.read(at: offset, into: buffer)
                case .channel(let reader, let channel, let header, let size):
                    let bytes = try ChannelView.read(channel: channel, header: header, monoSize: size, offset: offset,
                                                     count: buffer.count) { from, count in
                        var stereo = [UInt8](repeating: 0, count: count)
                        let n = try stereo.withUnsafeMutableBytes { try reader.read(at: from, into: $0) }
                        return Array(stereo[0..<n])
                    }
                    bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
                    return bytes.count
                case .bytes(let bytes):
                    guard offset < Int64(bytes.count) else { return 0 }
                    let n = min(buffer.count, bytes.count - Int(offset))
                    bytes[Int(offset)..<(Int(offset) + n)].withUnsafeBytes { buffer.copyMemory(from: $0) }
                    return n
                }
        }
    }

    public func release(_ handle: UInt64) {
        if handle & SettingsTree.handleBit != 0 { settings.release(handle) } else { files.remove(handle) }
    }

    /// Whether the kernel may keep a file's pages across opens: recordings never change;
    /// call.json shows the expiry, which a retention change moves.
    public func keepsCache(_ inode: UInt64) -> Bool {
        guard case let .file(_, kind) = Node(inode: inode) else { return false }
        return kind != .callJSON
    }

    /// Whether reading through `handle` decrypts (a large read is worth a worker thread; see
    /// inlineReadLimit), as opposed to copying a small document from memory.
    public func readDecrypts(_ handle: UInt64) -> Bool {
        guard handle & SettingsTree.handleBit == 0, let file = files.get(handle) else { return false }
        if case .bytes = file.content { return false }
        return true
    }

    /// Whether closing `handle` may apply settings (the rest close at once).
    public func flushApplies(_ handle: UInt64) -> Bool {
        handle & SettingsTree.handleBit != 0
    }

    /// Whether reads of a file bypass the kernel's page cache: `.last-error`, which reads
    /// differently for each user. (Settings files use the cache, so mmap works, but drop their
    /// pages at every open: see `keepsCache`.)
    public func bypassesCache(_ inode: UInt64) -> Bool {
        Node(inode: inode) == .settings(.lastError)
    }

    /// Whether a node is in `.settings/`.
    public func isSettings(_ inode: UInt64) -> Bool {
        if case .settings = Node(inode: inode) { return true }
        return false
    }

    /// Open files and folder listings (for tests and leak checks).
    public var openHandles: Int { files.count + settings.openHandles }
}
