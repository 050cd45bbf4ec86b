// FuseOperations: the table of low-level operations handed to libfuse. Each entry only
// converts arguments, calls the filesystem core, and replies (errors as errno).

import CFuse3
import Glibc
import RecordingStore

/// The filesystem behind a request.
@inline(__always)
private func filesystem(_ req: fuse_req_t?) -> RecordingFileSystem {
    Unmanaged<FuseMount>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue().filesystem
}

private func entry(_ a: FileAttributes, _ fs: RecordingFileSystem) -> fuse_entry_param {
    var e = fuse_entry_param()
    e.ino = fuse_ino_t(a.inode)
    e.generation = 1
    e.attr = a.stat(uid: fs.uid, gid: fs.gid)
    e.attr_timeout = a.timeout
    e.entry_timeout = a.timeout
    return e
}

private func refuseWrite(_ req: fuse_req_t?) { fuse_reply_err(req, EROFS) }

/// Read buffers kept for reuse: a fresh 1 MiB allocation per request would be mapped and
/// faulted in page by page every time.
private let replyBuffers = BufferPool()

final class BufferPool: @unchecked Sendable {
    private var free: [UnsafeMutableRawBufferPointer] = []
    private let lock = NSLockLite()

    func take(_ size: Int) -> UnsafeMutableRawBufferPointer {
        if let b = lock.locked({ free.popLast() }) {
            if b.count >= size { return b }
            b.deallocate()
        }
        return .allocate(byteCount: max(size, 1 << 20), alignment: 4096)
    }

    func give(_ buffer: UnsafeMutableRawBufferPointer) {
        let kept = lock.locked { () -> Bool in
            guard free.count < 32 else { return false }
            free.append(buffer)
            return true
        }
        if !kept { buffer.deallocate() }
    }
}

/// Builds the operations table. Kept out of any actor-isolated context: libfuse calls these
/// on its own threads.
func makeOperations() -> fuse_lowlevel_ops {
    var ops = fuse_lowlevel_ops()

    ops.`init` = { _, conn in
        guard let conn else { return }
        conn.pointee.max_readahead = 1 << 20
        conn.pointee.want |= UInt32(FUSE_CAP_READDIRPLUS)
        conn.pointee.want &= ~UInt32(FUSE_CAP_READDIRPLUS_AUTO)
    }

    ops.lookup = { req, parent, name in
        let fs = filesystem(req)
        do throws(FSError) {
            var e = entry(try fs.lookup(parent: UInt64(parent), name: String(cString: name!)), fs)
            fuse_reply_entry(req, &e)
        } catch {
            fuse_reply_err(req, error.code)
        }
    }

    ops.forget = { req, _, _ in fuse_reply_none(req) }
    ops.forget_multi = { req, _, _ in fuse_reply_none(req) }

    ops.getattr = { req, ino, _ in
        let fs = filesystem(req)
        do throws(FSError) {
            let a = try fs.getattr(UInt64(ino))
            var st = a.stat(uid: fs.uid, gid: fs.gid)
            fuse_reply_attr(req, &st, a.timeout)
        } catch {
            fuse_reply_err(req, error.code)
        }
    }

    ops.open = { req, ino, fi in
        let fs = filesystem(req)
        do throws(FSError) {
            let handle = try fs.open(UInt64(ino), flags: fi!.pointee.flags)
            fi!.pointee.fh = handle
            // Contents never change: keep the kernel's cached pages across opens.
            fi!.pointee.keep_cache = 1
            fuse_reply_open(req, fi)
        } catch {
            fuse_reply_err(req, error.code)
        }
    }

    ops.read = { req, _, size, offset, fi in
        let fs = filesystem(req)
        let buffer = replyBuffers.take(size)
        defer { replyBuffers.give(buffer) }
        do throws(FSError) {
            let n = try fs.read(fi!.pointee.fh, offset: Int64(offset), into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size]))
            fuse_reply_buf(req, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), n)
        } catch {
            fuse_reply_err(req, error.code)
        }
    }

    ops.release = { req, _, fi in
        filesystem(req).release(fi!.pointee.fh)
        fuse_reply_err(req, 0)
    }

    ops.opendir = { req, ino, fi in
        do throws(FSError) {
            let fs = filesystem(req)
            fi!.pointee.fh = try fs.opendir(UInt64(ino))
            if fs.listingNeverChanges(UInt64(ino)) {
                fi!.pointee.cache_readdir = 1
                fi!.pointee.keep_cache = 1
            }
            fuse_reply_open(req, fi)
        } catch {
            fuse_reply_err(req, error.code)
        }
    }

    ops.readdir = { req, ino, size, offset, fi in
        replyDirectory(req, ino, size, offset, fi!.pointee.fh, plus: false)
    }

    ops.readdirplus = { req, ino, size, offset, fi in
        replyDirectory(req, ino, size, offset, fi!.pointee.fh, plus: true)
    }

    ops.releasedir = { req, _, fi in
        filesystem(req).releasedir(fi!.pointee.fh)
        fuse_reply_err(req, 0)
    }

    ops.statfs = { req, _ in
        let totals = filesystem(req).totals()
        var s = statvfs()
        s.f_bsize = 4096
        s.f_frsize = 4096
        s.f_blocks = fsblkcnt_t(totals.blocks)
        s.f_files = fsfilcnt_t(totals.files)
        s.f_namemax = 255
        fuse_reply_statfs(req, &s)
    }

    ops.getxattr = { req, ino, name, size in
        do throws(FSError) {
            let value = try filesystem(req).getxattr(UInt64(ino), name: String(cString: name!))
            replyXattr(req, value, size)
        } catch {
            fuse_reply_err(req, error.code)
        }
    }

    ops.listxattr = { req, ino, size in
        do throws(FSError) {
            let names = try filesystem(req).listxattr(UInt64(ino))
            replyXattr(req, names.flatMap { Array($0.utf8) + [0] }, size)
        } catch {
            fuse_reply_err(req, error.code)
        }
    }

    ops.access = { req, _, mask in
        fuse_reply_err(req, mask & W_OK != 0 ? EROFS : 0)
    }

    // The recording tree is read-only: every change is refused and changes nothing.
    ops.setattr = { req, _, _, _, _ in refuseWrite(req) }
    ops.mknod = { req, _, _, _, _ in refuseWrite(req) }
    ops.mkdir = { req, _, _, _ in refuseWrite(req) }
    ops.unlink = { req, _, _ in refuseWrite(req) }
    ops.rmdir = { req, _, _ in refuseWrite(req) }
    ops.symlink = { req, _, _, _ in refuseWrite(req) }
    ops.rename = { req, _, _, _, _, _ in refuseWrite(req) }
    ops.link = { req, _, _, _ in refuseWrite(req) }
    ops.write = { req, _, _, _, _, _ in refuseWrite(req) }
    ops.create = { req, _, _, _, _ in refuseWrite(req) }
    ops.setxattr = { req, _, _, _, _, _ in refuseWrite(req) }
    ops.removexattr = { req, _, _ in refuseWrite(req) }
    return ops
}

private func replyXattr(_ req: fuse_req_t?, _ value: [UInt8], _ size: Int) {
    if size == 0 {
        fuse_reply_xattr(req, value.count)
    } else if value.count > size {
        fuse_reply_err(req, ERANGE)
    } else {
        value.withUnsafeBytes { fuse_reply_buf(req, $0.baseAddress?.assumingMemoryBound(to: CChar.self), value.count) }
    }
}

/// Fills one readdir(plus) reply: "." and ".." at offsets 0 and 1, then the listing.
private func replyDirectory(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ size: Int, _ offset: off_t, _ handle: UInt64, plus: Bool) {
    let fs = filesystem(req)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, size), alignment: 8)
    defer { buffer.deallocate() }
    let base = buffer.baseAddress!.assumingMemoryBound(to: CChar.self)
    var used = 0
    var position = Int(offset)

    func add(_ name: String, _ e: fuse_entry_param) -> Bool {
        var e = e
        let n = name.withCString { cName in
            plus ? fuse_add_direntry_plus(req, base + used, size - used, cName, &e, off_t(position + 1))
                 : fuse_add_direntry(req, base + used, size - used, cName, &e.attr, off_t(position + 1))
        }
        guard n <= size - used else { return false }
        used += n
        position += 1
        return true
    }

    do throws(FSError) {
        while position < 2 {
            var dot = fuse_entry_param()
            dot.attr.st_ino = __ino_t(ino)
            dot.attr.st_mode = S_IFDIR
            guard add(position == 0 ? "." : "..", dot) else { break }
        }
        if position >= 2 {
            for item in try fs.readdir(handle, offset: position - 2) {
                guard add(item.name, entry(item.attributes, fs)) else { break }
            }
        }
        fuse_reply_buf(req, base, used)
    } catch {
        fuse_reply_err(req, error.code)
    }
}
