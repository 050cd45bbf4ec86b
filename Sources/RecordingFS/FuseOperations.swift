// FuseOperations: the table of low-level operations handed to libfuse. Each entry only
// converts arguments, calls the filesystem core, and replies (errors as errno).

import CFuse3
import Glibc
import RecordingStore

/// The session behind a request.
@inline(__always)
private func session(_ req: fuse_req_t?) -> FuseSession {
    Unmanaged<FuseSession>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue()
}

/// The filesystem behind a request.
@inline(__always)
private func filesystem(_ req: fuse_req_t?) -> RecordingFileSystem { session(req).filesystem }

/// The node the kernel means by `ino` (each session calls its own root 1).
@inline(__always)
private func node(_ req: fuse_req_t?, _ ino: fuse_ino_t) -> UInt64 { session(req).node(ino) }

/// Runs a request's work on a worker thread (it replies from there): reads that decrypt, and
/// settings edits, which apply a catalog transaction and may wait for kernel notifications.
@inline(__always)
private func offload(_ req: fuse_req_t?, _ work: @escaping @Sendable () -> Void) {
    session(req).workers.submit(work)
}

/// A request pointer handed to a worker (libfuse allows replying from any thread).
private struct Request: @unchecked Sendable {
    let pointer: fuse_req_t?
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

/// Who sent a request.
@inline(__always)
private func caller(_ req: fuse_req_t?) -> Caller {
    let ctx = fuse_req_ctx(req)!.pointee
    return Caller(uid: ctx.uid, gid: ctx.gid, pid: ctx.pid)
}


/// Reads up to this size decrypt on the loop thread (a few chunks: waking a worker would cost
/// more than the decryption; measured with fio's 4 KiB reads). Larger ones go to the workers.
let inlineReadLimit = 64 << 10

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
        // The kernel keeps the smaller of this and the mount's read_ahead_kb (FuseMount raises
        // it to 4 MiB before answering init): asking for less would cap the window there.
        conn.pointee.max_readahead = 4 << 20
        conn.pointee.want |= UInt32(FUSE_CAP_READDIRPLUS)
        conn.pointee.want &= ~UInt32(FUSE_CAP_READDIRPLUS_AUTO)
        // open(O_TRUNC) arrives as one open, not a truncate then an open: a settings file is
        // only ever replaced whole, at close.
        if conn.pointee.capable & UInt32(FUSE_CAP_ATOMIC_O_TRUNC) != 0 { conn.pointee.want |= UInt32(FUSE_CAP_ATOMIC_O_TRUNC) }
    }

    ops.lookup = { req, parent, name in
        let fs = filesystem(req)
        do throws(FSError) {
            var e = entry(try fs.lookup(parent: node(req, parent), name: String(cString: name!), caller: caller(req)), fs)
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
            let a = try fs.getattr(node(req, ino), caller: caller(req))
            var st = a.stat(uid: fs.uid, gid: fs.gid)
            fuse_reply_attr(req, &st, a.timeout)
        } catch {
            fuse_reply_err(req, error.code)
        }
    }

    ops.open = { req, ino, fi in
        let fs = filesystem(req)
        do throws(FSError) {
            let handle = try fs.open(node(req, ino), flags: fi!.pointee.flags, caller: caller(req))
            fi!.pointee.fh = handle
            // Recordings never change: keep the kernel's cached pages across opens. Settings
            // files and call.json change: their pages are dropped at each open.
            fi!.pointee.keep_cache = fs.keepsCache(node(req, ino)) ? 1 : 0
            fi!.pointee.direct_io = fs.bypassesCache(node(req, ino)) ? 1 : 0
            fuse_reply_open(req, fi)
        } catch {
            fuse_reply_err(req, error.code)
        }
    }

    ops.read = { req, _, size, offset, fi in
        let handle = fi!.pointee.fh
        let r = Request(pointer: req)
        let work: @Sendable () -> Void = {
            let req = r.pointer
            let fs = filesystem(req)
            let buffer = replyBuffers.take(size)
            defer { replyBuffers.give(buffer) }
            do throws(FSError) {
                let n = try fs.read(handle, offset: Int64(offset), into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size]))
                fuse_reply_buf(req, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), n)
            } catch {
                fuse_reply_err(req, error.code)
            }
        }
        if size > inlineReadLimit && filesystem(req).readDecrypts(handle) { offload(req, work) } else { work() }
    }

    ops.release = { req, _, fi in
        let handle = fi!.pointee.fh
        guard filesystem(req).flushApplies(handle) else {
            filesystem(req).release(handle)
            fuse_reply_err(req, 0)
            return
        }
        // A settings file's last close may still apply what no close of its opener judged.
        let r = Request(pointer: req)
        offload(req) {
            filesystem(r.pointer).release(handle)
            fuse_reply_err(r.pointer, 0)
        }
    }

    ops.create = { req, parent, name, mode, fi in
        let fs = filesystem(req)
        do throws(FSError) {
            let made = try fs.create(parent: node(req, parent), name: String(cString: name!), mode: mode,
                                     flags: fi!.pointee.flags, caller: caller(req))
            fi!.pointee.fh = made.handle
            var e = entry(made.attributes, fs)
            fuse_reply_create(req, &e, fi)
        } catch {
            fuse_reply_err(req, error.code)
        }
    }

    ops.write = { req, _, buf, size, offset, fi in
        do throws(FSError) {
            let n = try filesystem(req).write(fi!.pointee.fh, offset: Int64(offset), bytes: UnsafeRawBufferPointer(start: buf, count: size))
            fuse_reply_write(req, n)
        } catch {
            fuse_reply_err(req, error.code)
        }
    }

    ops.flush = { req, _, fi in flush(req, fi!.pointee.fh, sync: false) }
    ops.fsync = { req, _, _, fi in flush(req, fi!.pointee.fh, sync: true) }

    ops.setattr = { req, ino, attr, toSet, fi in
        let fs = filesystem(req)
        var change = AttributeChange()
        let st = attr!.pointee
        if toSet & FUSE_SET_ATTR_SIZE != 0 { change.size = Int64(st.st_size) }
        if toSet & FUSE_SET_ATTR_MODE != 0 { change.mode = st.st_mode }
        if toSet & FUSE_SET_ATTR_UID != 0 { change.uid = st.st_uid }
        if toSet & FUSE_SET_ATTR_GID != 0 { change.gid = st.st_gid }
        change.times = toSet & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW) != 0
        let handle = fi?.pointee.fh, who = caller(req), r = Request(pointer: req), settingsChange = change, target = node(req, ino)
        // A truncate by name applies settings at once: on a worker, like other edits.
        offload(req) {
            do throws(FSError) {
                let a = try fs.setattr(target, settingsChange, handle: handle, caller: who)
                var out = a.stat(uid: fs.uid, gid: fs.gid)
                fuse_reply_attr(r.pointer, &out, a.timeout)
            } catch {
                fuse_reply_err(r.pointer, error.code)
            }
        }
    }

    ops.rename = { req, parent, name, newParent, newName, flags in
        let from = String(cString: name!), to = String(cString: newName!), who = caller(req), r = Request(pointer: req)
        let source = node(req, parent), destination = node(req, newParent)
        offload(req) {
            do throws(FSError) {
                try filesystem(r.pointer).rename(parent: source, name: from, newParent: destination,
                                                 newName: to, flags: UInt32(flags), caller: who)
                fuse_reply_err(r.pointer, 0)
            } catch {
                fuse_reply_err(r.pointer, error.code)
            }
        }
    }

    ops.unlink = { req, parent, name in
        let target = String(cString: name!), who = caller(req), r = Request(pointer: req), folder = node(req, parent)
        offload(req) {
            do throws(FSError) {
                try filesystem(r.pointer).unlink(parent: folder, name: target, caller: who)
                fuse_reply_err(r.pointer, 0)
            } catch {
                fuse_reply_err(r.pointer, error.code)
            }
        }
    }

    // No opendir: the kernel then opens folders itself and keeps every folder's listing in
    // its cache (two requests fewer per folder in a tree walk, none on a second walk). Folders
    // whose listing changes are forgotten explicitly (RecordingFileSystem.forget).
    ops.opendir = { req, _, _ in fuse_reply_err(req, ENOSYS) }

    ops.readdir = { req, ino, size, offset, _ in
        replyDirectory(req, ino, size, offset, plus: false)
    }

    ops.readdirplus = { req, ino, size, offset, _ in
        replyDirectory(req, ino, size, offset, plus: true)
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
            let value = try filesystem(req).getxattr(node(req, ino), name: String(cString: name!))
            replyXattr(req, value, size)
        } catch {
            fuse_reply_err(req, error.code)
        }
    }

    ops.listxattr = { req, ino, size in
        do throws(FSError) {
            let names = try filesystem(req).listxattr(node(req, ino))
            replyXattr(req, names.flatMap { Array($0.utf8) + [0] }, size)
        } catch {
            fuse_reply_err(req, error.code)
        }
    }

    ops.access = { req, ino, mask in
        fuse_reply_err(req, filesystem(req).access(node(req, ino), mask: mask, caller: caller(req)))
    }

    // The recording tree is read-only (EROFS); `.settings/` holds files only (EPERM).
    ops.mknod = { req, parent, _, _, _ in fuse_reply_err(req, filesystem(req).refuseChange(in: node(req, parent)).code) }
    ops.mkdir = { req, parent, _, _ in fuse_reply_err(req, filesystem(req).refuseChange(in: node(req, parent)).code) }
    ops.rmdir = { req, parent, _ in fuse_reply_err(req, filesystem(req).refuseChange(in: node(req, parent)).code) }
    ops.symlink = { req, _, parent, _ in fuse_reply_err(req, filesystem(req).refuseChange(in: node(req, parent)).code) }
    ops.link = { req, _, parent, _ in fuse_reply_err(req, filesystem(req).refuseChange(in: node(req, parent)).code) }
    ops.setxattr = { req, ino, _, _, _, _ in
        fuse_reply_err(req, filesystem(req).isSettings(node(req, ino)) ? ENOTSUP : EROFS)
    }
    ops.removexattr = { req, ino, _ in
        fuse_reply_err(req, filesystem(req).isSettings(node(req, ino)) ? ENOTSUP : EROFS)
    }
    return ops
}

/// close(2) and fsync(2): a settings file written through the handle applies now, on a worker.
private func flush(_ req: fuse_req_t?, _ handle: UInt64, sync: Bool) {
    guard filesystem(req).flushApplies(handle) else {
        fuse_reply_err(req, 0)
        return
    }
    let r = Request(pointer: req), who = caller(req)
    offload(req) {
        do throws(FSError) {
            try filesystem(r.pointer).flush(handle, caller: who, sync: sync)
            fuse_reply_err(r.pointer, 0)
        } catch {
            fuse_reply_err(r.pointer, error.code)
        }
    }
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
private func replyDirectory(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ size: Int, _ offset: off_t, plus: Bool) {
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
            for item in try fs.readdir(node(req, ino), offset: position - 2, caller: caller(req)) {
                guard add(item.name, entry(item.attributes, fs)) else { break }
            }
        }
        fuse_reply_buf(req, base, used)
    } catch {
        fuse_reply_err(req, error.code)
    }
}
