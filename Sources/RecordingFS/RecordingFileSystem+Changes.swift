// RecordingFileSystem+Changes: the operations that change something. The recording tree is
// read-only (EROFS, nothing changes); `.settings/` takes edits (SettingsTree).

import Glibc

extension RecordingFileSystem {
    /// The settings folder an inode is, or nil for the recording tree (whose changes are refused).
    private func settingsFolder(_ inode: UInt64) throws(FSError) -> SettingsNode? {
        guard let node = Node(inode: inode) else { throw .noEntry }
        guard case let .settings(s) = node else { return nil }
        return s
    }

    /// create(2) with O_CREAT: a settings file or a scratch file in `.settings/`.
    public func create(parent: UInt64, name: String, mode: mode_t, flags: Int32,
                       caller: Caller = .process) throws(FSError) -> (handle: UInt64, attributes: FileAttributes) {
        guard let folder = try settingsFolder(parent) else { throw .readOnly }
        return try settings.create(folder, name: name, mode: mode, flags: flags, caller: caller)
    }

    public func write(_ handle: UInt64, offset: Int64, bytes: UnsafeRawBufferPointer) throws(FSError) -> Int {
        guard handle & SettingsTree.handleBit != 0 else { throw .badHandle }
        return try settings.write(handle, offset: offset, bytes: bytes)
    }

    /// close(2) (`sync` false) and fsync(2) (`sync` true): settings written through the handle
    /// apply now or are refused (EINVAL). Nothing to do for recordings.
    public func flush(_ handle: UInt64, caller: Caller = .process, sync: Bool = false) throws(FSError) {
        guard handle & SettingsTree.handleBit != 0 else { return }
        try settings.flush(handle, caller: caller, sync: sync)
    }

    public func setattr(_ inode: UInt64, _ change: AttributeChange, handle: UInt64?,
                        caller: Caller = .process) throws(FSError) -> FileAttributes {
        guard let node = Node(inode: inode) else { throw .noEntry }
        guard case let .settings(s) = node else { throw .readOnly }
        return try settings.setattr(s, change, handle: handle.flatMap { $0 & SettingsTree.handleBit != 0 ? $0 : nil }, caller: caller)
    }

    public func rename(parent: UInt64, name: String, newParent: UInt64, newName: String, flags: UInt32,
                       caller: Caller = .process) throws(FSError) {
        guard let from = try settingsFolder(parent), let to = try settingsFolder(newParent) else { throw .readOnly }
        try settings.rename(from, name, to: to, newName, flags: flags, caller: caller)
    }

    public func unlink(parent: UInt64, name: String, caller: Caller = .process) throws(FSError) {
        guard let folder = try settingsFolder(parent) else { throw .readOnly }
        try settings.unlink(folder, name, caller: caller)
    }

    /// mkdir, rmdir, symlink, link, mknod: never in the recording tree (EROFS), and `.settings/`
    /// holds only its files (EPERM).
    public func refuseChange(in parent: UInt64) -> FSError {
        if case .settings = Node(inode: parent) { return FSError(EPERM) }
        return .readOnly
    }

    /// access(2): writing is for settings files, by root and the mount's owner.
    public func access(_ inode: UInt64, mask: Int32, caller: Caller = .process) -> Int32 {
        guard mask & W_OK != 0 else { return 0 }
        guard case let .settings(s) = Node(inode: inode) else { return EROFS }
        if s == .lastError { return EACCES }
        return caller.uid == 0 || caller.uid == uid ? 0 : EACCES
    }
}
