// SystemError: the one place a failed system call becomes a Swift error (with EINTR retried).

import Glibc

/// A system call that failed: which call, on what path, and errno.
public struct SystemError: Error, CustomStringConvertible {
    public let function: String
    public let path: String
    public let code: Int32

    public init(_ function: String, path: String, code: Int32) {
        self.function = function
        self.path = path
        self.code = code
    }

    public var description: String {
        "\(function)(\(path)): \(String(cString: strerror(code)))"
    }

    /// Runs a call that returns -1 and sets errno on failure, retrying EINTR.
    @discardableResult
    static func check<T: BinaryInteger>(_ function: String, _ path: String, _ call: () -> T) throws(SystemError) -> T {
        while true {
            let r = call()
            if r != -1 { return r }
            let e = errno
            if e != EINTR { throw SystemError(function, path: path, code: e) }
        }
    }
}

/// Small file operations recfs needs with exact durability semantics.
public enum Files {
    /// Writes `bytes` to `path` atomically: a temp file beside it, fsync, rename, fsync of the folder.
    /// A crash leaves either the old file or the new one, never a mix.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let temp = path + ".tmp-\(getpid())"
        let fd = try SystemError.check("open", temp) { open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
        do {
            try writeAll(fd, bytes, path: temp)
            try SystemError.check("fchmod", temp) { fchmod(fd, mode) }
            try SystemError.check("fsync", temp) { fsync(fd) }
            close(fd)
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
        try SystemError.check("rename", path) { rename(temp, path) }
        try syncDirectory(of: path)
    }

    /// Writes every byte, retrying short writes.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { (b: UnsafeRawBufferPointer) throws in
            try writeAll(fd, b, path: path)
        }
    }

    public static func writeAll(_ fd: Int32, _ b: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < b.count {
            let n = try SystemError.check("write", path) { write(fd, b.baseAddress! + done, b.count - done) }
            done += n
        }
    }

    /// Reads a whole file.
    public static func read(_ path: String, limit: Int = 1 << 30) throws -> [UInt8] {
        let fd = try SystemError.check("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try buf.withUnsafeMutableBytes { (p: UnsafeMutableRawBufferPointer) throws in
                try SystemError.check("read", path) { Glibc.read(fd, p.baseAddress, p.count) }
            }
            if n == 0 { break }
            out += buf[0..<n]
            if out.count > limit { throw SystemError("read", path: path, code: EFBIG) }
        }
        return out
    }

    /// fsync of the folder holding `path`, so a rename or unlink in it is durable.
    public static func syncDirectory(of path: String) throws {
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let fd = try SystemError.check("open", dir) { open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        try SystemError.check("fsync", dir) { fsync(fd) }
    }

    /// Creates `path` and its parents as needed.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, mode) != 0 && errno != EEXIST {
                throw SystemError("mkdir", path: current, code: errno)
            }
        }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}
