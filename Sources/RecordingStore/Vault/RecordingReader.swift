// RecordingReader: authenticated reads of any byte range of one recording, touching only the
// chunks that hold it. Long reads decrypt batches on every core.

import Dispatch
import Glibc

/// Decrypted, authenticated access to one recording.
///
/// Thread safety: one thread at a time (it owns cipher contexts and scratch buffers). Open one
/// reader per thread or per open file. Long `read(_:to:)` calls fan out to worker threads
/// internally and give their pieces to the sink in order, on the calling thread.
public final class RecordingReader {
    public let plaintextSize: Int64
    public let layout: ChunkLayout
    let blob: any BlobReader
    let dataKey: [UInt8]
    let header: BlobHeader
    let subject: String
    let chunkCount: Int64
    /// Chunks fetched and decrypted per batch (1 MiB of plaintext).
    let batchChunks: Int
    /// One worker per core, created on first need; worker 0 serves short reads.
    private var workers: [ChunkWorker] = []
    static let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// Workers for `readChunks(at:into:)`, which may run on several threads at once: each call
    /// takes its own and gives them back.
    private var spare: [ChunkWorker] = []
    private let spareLock = NSLockLite()

    /// Chunks authenticated since the reader opened (for tests and benchmarks).
    public var chunksDecrypted: Int {
        workers.reduce(0) { $0 + $1.chunksDecrypted } + spareLock.locked { spare.reduce(0) { $0 + $1.chunksDecrypted } }
    }

    init(blob: any BlobReader, header: BlobHeader, dataKey: [UInt8], plaintextSize: Int64, subject: String) throws {
        self.blob = blob
        self.plaintextSize = plaintextSize
        self.header = header
        self.layout = header.layout
        self.dataKey = dataKey
        self.subject = subject
        self.chunkCount = layout.chunkCount(plaintextSize: plaintextSize)
        self.batchChunks = max(1, (1 << 20) / Int(layout.chunkSize))
        workers.append(try makeWorker())
    }

    private func makeWorker() throws -> ChunkWorker {
        try ChunkWorker(reader: self)
    }

    /// Streams the plaintext of `range` (clamped to the recording) to `sink` in pieces of up to 1 MiB.
    public func read(_ range: Range<Int64>, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let range = max(0, range.lowerBound)..<min(plaintextSize, max(range.lowerBound, range.upperBound))
        let chunks = layout.chunks(covering: range)
        let batchCount = (chunks.count + batchChunks - 1) / batchChunks
        let parallel = min(RecordingReader.cores, batchCount >= 4 ? batchCount : 1)
        while workers.count < parallel { workers.append(try makeWorker()) }

        var next = chunks.lowerBound
        while next < chunks.upperBound {
            // One round: up to `parallel` consecutive batches, decrypted at once, emitted in order.
            var starts: [(first: Int64, count: Int)] = []
            while starts.count < parallel && next < chunks.upperBound {
                let n = Int(min(Int64(batchChunks), chunks.upperBound - next))
                starts.append((next, n))
                next += Int64(n)
            }
            if starts.count == 1 {
                try workers[0].decrypt(starts[0].first, count: starts[0].count)
            } else {
                let ws = workers, batches = starts
                let failures = FailureSlots(count: starts.count)
                DispatchQueue.concurrentPerform(iterations: starts.count) { i in
                    do { try ws[i].decrypt(batches[i].first, count: batches[i].count) } catch { failures.set(i, error) }
                }
                if let error = failures.first { throw error }
            }
            for (i, batch) in starts.enumerated() {
                let worker = workers[i]
                let batchStart = batch.first * layout.chunkSize
                let from = Int(max(range.lowerBound, batchStart) - batchStart)
                let to = Int(min(range.upperBound, batchStart + Int64(worker.plainLength)) - batchStart)
                try sink(UnsafeRawBufferPointer(rebasing: worker.plain[from..<to]))
            }
        }
    }

    /// Reads whole chunks straight into `buffer` when `offset` starts a chunk and the read ends on
    /// a chunk boundary or at the end (the kernel's readahead); nil otherwise. Unlike the other
    /// reads, any number of threads may call this at once. Long reads split across the cores.
    public func readChunks(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        let end = min(plaintextSize, offset + Int64(buffer.count))
        guard offset < end else { return 0 }
        guard offset % layout.chunkSize == 0 && (end % layout.chunkSize == 0 || end == plaintextSize) else { return nil }
        let chunks = layout.chunks(covering: offset..<end)
        let count = chunks.upperBound - chunks.lowerBound
        let partCount: Int64 = count >= 16 && RecordingReader.cores > 1 ? 2 : 1
        let workers = try (0..<partCount).map { _ in try takeSpare() }
        defer { spareLock.locked { spare += workers } }
        let per = (count + partCount - 1) / partCount
        let parts = (0..<Int(partCount)).map { i -> ChunkRun in
            let first = chunks.lowerBound + per * Int64(i)
            return ChunkRun(worker: workers[i], first: first, stop: min(chunks.upperBound, first + per), batch: batchChunks,
                            output: buffer.baseAddress! + Int((first - chunks.lowerBound) * layout.chunkSize))
        }
        if parts.count == 1 { return try parts[0].run() }
        let failures = FailureSlots(count: parts.count)
        let counts = CountSlots(count: parts.count)
        DispatchQueue.concurrentPerform(iterations: parts.count) { i in
            do { counts.set(i, try parts[i].run()) } catch { failures.set(i, error) }
        }
        if let error = failures.first { throw error }
        return counts.total
    }

    private func takeSpare() throws -> ChunkWorker {
        if let w = spareLock.locked({ spare.popLast() }) { return w }
        return try makeWorker()
    }

    /// Reads up to `buffer.count` plaintext bytes at `offset`; returns the count (0 at the end).
    /// Reads of whole chunks (the kernel's aligned readahead) decrypt straight into `buffer`.
    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let end = min(plaintextSize, offset + Int64(buffer.count))
        guard offset < end else { return 0 }
        if offset % layout.chunkSize == 0 && (end % layout.chunkSize == 0 || end == plaintextSize) {
            let chunks = layout.chunks(covering: offset..<end)
            var chunk = chunks.lowerBound, written = 0
            while chunk < chunks.upperBound {
                let n = Int(min(Int64(batchChunks), chunks.upperBound - chunk))
                written += try workers[0].decrypt(chunk, count: n, into: buffer.baseAddress! + written)
                chunk += Int64(n)
            }
            return written
        }
        var written = 0
        try read(offset..<(offset + Int64(buffer.count))) { piece in
            (buffer.baseAddress! + written).copyMemory(from: piece.baseAddress!, byteCount: piece.count)
            written += piece.count
        }
        return written
    }
}

/// The first error of a parallel round, by batch order.
private final class FailureSlots: @unchecked Sendable {
    private var errors: [(any Error)?]
    private let lock = NSLockLite()
    init(count: Int) { errors = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ e: any Error) { lock.locked { errors[i] = e } }
    var first: (any Error)? { lock.locked { errors.compactMap { $0 }.first } }
}

/// One worker's share of a whole-chunk read: chunks `first..<stop` into `output`.
private struct ChunkRun: @unchecked Sendable {
    let worker: ChunkWorker
    let first: Int64
    let stop: Int64
    let batch: Int
    let output: UnsafeMutableRawPointer

    func run() throws -> Int {
        var chunk = first, written = 0
        while chunk < stop {
            let n = Int(min(Int64(batch), stop - chunk))
            written += try worker.decrypt(chunk, count: n, into: output + written)
            chunk += Int64(n)
        }
        return written
    }
}

/// Byte counts of a parallel round.
private final class CountSlots: @unchecked Sendable {
    private var counts: [Int]
    private let lock = NSLockLite()
    init(count: Int) { counts = Array(repeating: 0, count: count) }
    func set(_ i: Int, _ n: Int) { lock.locked { counts[i] = n } }
    var total: Int { lock.locked { counts.reduce(0, +) } }
}

/// A pthread mutex, to keep Foundation out of hot paths (decryption, FUSE replies).
public final class NSLockLite: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    public init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    public func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

/// A cipher context and buffers for one batch of chunks at a time.
final class ChunkWorker: @unchecked Sendable {
    unowned let reader: RecordingReader
    let cipher: AESGCM
    let context: ChunkContext
    let sealed: UnsafeMutableRawBufferPointer
    let plain: UnsafeMutableRawBufferPointer
    /// Plaintext bytes of the last decrypted batch.
    private(set) var plainLength = 0
    private(set) var chunksDecrypted = 0

    init(reader: RecordingReader) throws {
        self.reader = reader
        cipher = try AESGCM(key: reader.dataKey)
        context = ChunkContext(header: reader.header)
        sealed = .allocate(byteCount: reader.batchChunks * Int(reader.layout.sealedChunkSize), alignment: 64)
        plain = .allocate(byteCount: reader.batchChunks * Int(reader.layout.chunkSize), alignment: 64)
    }

    deinit {
        sealed.deallocate()
        plain.deallocate()
        context.release()
    }

    /// Reads and authenticates `count` chunks from `first` into `output` (by default `plain`);
    /// returns the plaintext length.
    @discardableResult
    func decrypt(_ first: Int64, count: Int, into output: UnsafeMutableRawPointer? = nil) throws -> Int {
        let destination = output ?? plain.baseAddress!
        let layout = reader.layout, size = reader.plaintextSize, last = reader.chunkCount - 1
        var plainTotal = 0
        for i in 0..<count { plainTotal += Int(layout.plaintextLength(ofChunk: first + Int64(i), plaintextSize: size)) }
        let sealedTotal = plainTotal + count * AESGCM.tagSize
        let start = layout.blobOffset(ofChunk: first)
        let source: UnsafeRawPointer
        if let map = reader.blob.mapped {
            // Checked at open: the blob's size matches the recording, so the chunks are all there.
            guard start + Int64(sealedTotal) <= Int64(map.count) else {
                throw IntegrityError(subject: reader.subject, detail: "the blob ends inside chunk \(first + Int64(count) - 1) (truncated)")
            }
            source = map.baseAddress! + Int(start)
        } else {
            let got = try reader.blob.read(at: start, into: UnsafeMutableRawBufferPointer(rebasing: sealed[0..<sealedTotal]))
            guard got == sealedTotal else {
                throw IntegrityError(subject: reader.subject, detail: "the blob ends inside chunk \(first + Int64(count) - 1) (truncated)")
            }
            source = UnsafeRawPointer(sealed.baseAddress!)
        }
        var sealedOffset = 0, plainOffset = 0
        for i in 0..<count {
            let index = first + Int64(i)
            let length = Int(layout.plaintextLength(ofChunk: index, plaintextSize: size))
            let ok = try context.open(cipher, index: index, last: index == last,
                                      input: source + sealedOffset, count: length,
                                      output: destination + plainOffset)
            guard ok else {
                throw IntegrityError(subject: reader.subject, detail: "chunk \(index) of \(reader.chunkCount) does not authenticate (altered, truncated, reordered or taken from another recording)")
            }
            chunksDecrypted += 1
            sealedOffset += length + AESGCM.tagSize
            plainOffset += length
        }
        plainLength = plainOffset
        return plainOffset
    }
}
