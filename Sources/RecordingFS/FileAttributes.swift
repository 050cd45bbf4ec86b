// FileAttributes: what getattr answers, computed from the catalog alone (never by decrypting).

import Glibc

/// The attributes of a node, and how long the kernel may cache them.
public struct FileAttributes: Equatable, Sendable {
    public let inode: UInt64
    public let isDirectory: Bool
    public let size: Int64
    public let links: UInt32
    /// Modification (and change) time, milliseconds since the epoch.
    public let mtime: Int64
    /// Seconds the kernel may keep this entry and its attributes.
    public let timeout: Double
    /// Permission bits; nil for the read-only defaults (0555 folders, 0444 files).
    public var permissions: mode_t? = nil

    /// The `stat` the kernel gets: read-only files and folders owned by the mount's owner.
    public func stat(uid: uid_t, gid: gid_t) -> Glibc.stat {
        var st = Glibc.stat()
        st.st_ino = __ino_t(inode)
        st.st_mode = (isDirectory ? S_IFDIR : S_IFREG) | (permissions ?? (isDirectory ? 0o555 : 0o444))
        st.st_nlink = __nlink_t(links)
        st.st_size = __off_t(size)
        // A folder's block size only sizes the buffer glibc's opendir reads it with
        // (max(32 KiB, st_blksize)), and Linux 6.18 gives each listing request a buffer of that
        // size, allocated and mapped page by page: at 64 KiB a call folder's 1 KiB listing cost
        // 16 pages twice per walk; at 4 KiB glibc's 32 KiB floor makes it 8.
        st.st_blksize = isDirectory ? 4096 : 65536
        st.st_blocks = __blkcnt_t((size + 511) / 512)
        st.st_uid = uid
        st.st_gid = gid
        let ts = timespec(tv_sec: Int(mtime / 1000), tv_nsec: Int(mtime % 1000) * 1_000_000)
        st.st_mtim = ts
        st.st_ctim = ts
        st.st_atim = ts
        return st
    }
}

/// One entry of a folder listing.
public struct DirectoryEntry: Sendable {
    public let name: String
    public let attributes: FileAttributes
}
