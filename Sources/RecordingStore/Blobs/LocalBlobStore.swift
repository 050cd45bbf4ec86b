// LocalBlobStore: blobs as files under one folder per region (STORE/blobs/ap-south-1/…).

import Glibc

/// Blobs as files under `root`. `put` renames a staged file into place after fsync, then
/// syncs the folder: a crash leaves the blob whole or absent.
public struct LocalBlobStore: BlobStore {
    public let root: String
    public let name: String

    public init(root: String, name: String) {
        self.root = root
        self.name = name
    }

    func path(_ key: String) -> String { root + "/" + key }

    public func put(_ key: String, stagedPath: String) throws {
        let target = path(key)
        if let slash = target.lastIndex(of: "/") { try Files.makeDirectories(String(target[..<slash])) }
        let fd = try SystemError.check("open", stagedPath) { Glibc.open(stagedPath, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        try SystemError.check("fsync", stagedPath) { fsync(fd) }
        try SystemError.check("rename", target) { rename(stagedPath, target) }
        try Files.syncDirectory(of: target)
    }

    public func open(_ key: String) throws -> any BlobReader {
        let p = path(key)
        let fd = Glibc.open(p, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { throw BlobNotFound(store: name, key: key) }
            throw SystemError("open", path: p, code: errno)
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw SystemError("fstat", path: p, code: e)
        }
        return LocalBlobReader(fd: fd, path: p, size: Int64(st.st_size))
    }

    public func size(_ key: String) throws -> Int64 {
        var st = stat()
        let p = path(key)
        if stat(p, &st) != 0 {
            if errno == ENOENT { throw BlobNotFound(store: name, key: key) }
            throw SystemError("stat", path: p, code: errno)
        }
        return Int64(st.st_size)
    }

    public func delete(_ key: String) throws {
        let p = path(key)
        if unlink(p) != 0 && errno != ENOENT { throw SystemError("unlink", path: p, code: errno) }
        try Files.syncDirectory(of: p)
    }

    public func list(prefix: String) throws -> [String] {
        var out: [String] = []
        try walk(relative: "", into: &out)
        return out.filter { $0.hasPrefix(prefix) }.sorted()
    }

    private func walk(relative: String, into out: inout [String]) throws {
        let dirPath = relative.isEmpty ? root : root + "/" + relative
        guard let dir = opendir(dirPath) else {
            if errno == ENOENT { return }
            throw SystemError("opendir", path: dirPath, code: errno)
        }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let rel = relative.isEmpty ? name : relative + "/" + name
            if entry.pointee.d_type == UInt8(DT_DIR) {
                try walk(relative: rel, into: &out)
            } else {
                out.append(rel)
            }
        }
    }

    public func rewriteHeader(_ key: String, _ bytes: [UInt8]) throws {
        let p = path(key)
        let fd = try SystemError.check("open", p) { Glibc.open(p, O_WRONLY | O_CLOEXEC) }
        defer { close(fd) }
        let n = try bytes.withUnsafeBytes { b in
            try SystemError.check("pwrite", p) { pwrite(fd, b.baseAddress, b.count, 0) }
        }
        guard n == bytes.count else { throw SystemError("pwrite", path: p, code: EIO) }
        try SystemError.check("fsync", p) { fsync(fd) }
    }
}

/// A local blob opened for reading, mapped read-only so chunks decrypt straight from the
/// page cache; `pread` serves when mapping is not possible. Both are safe from many threads.
final class LocalBlobReader: BlobReader, @unchecked Sendable {
    let fd: Int32
    let path: String
    let size: Int64
    let mapped: UnsafeRawBufferPointer?

    init(fd: Int32, path: String, size: Int64) {
        self.fd = fd
        self.path = path
        self.size = size
        if size > 0, let p = mmap(nil, Int(size), PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED {
            mapped = UnsafeRawBufferPointer(start: p, count: Int(size))
        } else {
            mapped = nil
        }
    }

    deinit {
        if let m = mapped { munmap(UnsafeMutableRawPointer(mutating: m.baseAddress), m.count) }
        close(fd)
    }

    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = try SystemError.check("pread", path) {
                pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            }
            if n == 0 { break }
            done += n
        }
        return done
    }
}
