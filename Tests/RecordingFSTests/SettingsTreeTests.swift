// SettingsTreeTests: `.settings/` through the filesystem core's handlers (no kernel): reading,
// buffered writes applied at flush, refusals, scratch files and renames, who may write.

import Foundation
import Glibc
import RecordingCore
import Testing
@testable import RecordingFS
@testable import RecordingStore

@Suite struct SettingsTreeTests {
    let f: FixtureStore
    var fs: RecordingFileSystem { f.fs }
    let root = Caller(uid: 0, gid: 0, pid: 1)
    let stranger = Caller(uid: 4242, gid: 4242, pid: 2)

    init() throws {
        f = try FixtureStore()
        let growth = try Array(Data(contentsOf: URL(fileURLWithPath: FixtureStore.fixtures + "/settings/growth.json")))
        try f.store.applySettings(growth, actor: "test")
    }

    var settingsFolder: UInt64 { SettingsNode.folder.inode }
    var flowsFolder: UInt64 { SettingsNode.flowsFolder.inode }

    func inode(_ name: String, in folder: UInt64? = nil) throws -> UInt64 {
        try fs.lookup(parent: folder ?? settingsFolder, name: name, caller: root).inode
    }

    func read(_ inode: UInt64, as caller: Caller? = nil) throws -> String {
        let h = try fs.open(inode, flags: O_RDONLY, caller: caller ?? root)
        defer { fs.release(h) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let n = try buffer.withUnsafeMutableBytes { try fs.read(h, offset: 0, into: $0) }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }

    /// open(O_WRONLY|O_TRUNC), write, close: what `echo … > f` does.
    func write(_ inode: UInt64, _ text: String, as caller: Caller? = nil) throws(FSError) {
        let h = try fs.open(inode, flags: O_WRONLY | O_TRUNC, caller: caller ?? root)
        defer { fs.release(h) }
        let bytes = Array(text.utf8)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: bytes)
        _ = try fs.write(h, offset: 0, bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count]))
        try fs.flush(h, caller: caller ?? root)
    }

    func lastError(_ caller: Caller? = nil) throws -> String {
        try read(try inode(".last-error"), as: caller ?? root)
    }

    @Test func theFolderSitsAtTheRootWithItsFiles() throws {
        #expect(try fs.list(1, caller: root).first?.name == ".settings")
        let names = try fs.list(settingsFolder, caller: root).map(\.name)
        #expect(names == ["account.json", "retention.json", "access.json", "storage.json", "flows", ".last-error"])
        #expect(try fs.list(flowsFolder, caller: root).map(\.name) == ["sales.json"])
        let account = try fs.getattr(try inode("account.json"), caller: root)
        #expect(account.timeout == 0)
        #expect(account.stat(uid: 0, gid: 0).st_mode == S_IFREG | 0o644)
        let text = try read(account.inode)
        #expect(Int64(text.utf8.count) == account.size)
        #expect(text == String(decoding: SettingsFile.account.text(try f.store.currentSettings().settings, accountSid: "ACdemo", plan: .growth), as: UTF8.self))
    }

    @Test func aValidWriteAppliesAtFlush() throws {
        let account = try inode("account.json")
        let before = try f.store.settingsStamp().version
        try write(account, #"{"account": {"retentionDays": 30}}"#)
        #expect(try f.store.currentSettings().settings.account.retentionDays == 30)
        #expect(try f.store.settingsStamp().version == before + 1)
        #expect(try read(account).contains(#""retentionDays": 30"#))
        #expect(try lastError() == "")
        let audit = try f.store.auditEvents(subject: "ACdemo").last
        #expect(audit?.action == "settings.set")
        #expect(audit?.actor == "root")
    }

    @Test func anInvalidWriteChangesNothingAndSaysWhy() throws {
        let account = try inode("account.json")
        let before = try read(account)
        let version = try f.store.settingsStamp().version
        #expect(throws: FSError(EINVAL)) { try write(account, #"{"account": {"retentionDays": 400, "mode": "stereo"}}"#) }
        #expect(try read(account) == before)
        #expect(try f.store.settingsStamp().version == version)
        let why = try lastError()
        #expect(why.contains("write account.json: refused; nothing changed"))
        #expect(why.contains("account.retentionDays: 400 is outside Growth's range 7–180"))
        #expect(why.contains("account.mode"))
        // Each user has their own.
        #expect(try lastError(Caller(uid: 1000, gid: 1000, pid: 3)) == "")
        // A later valid write clears it.
        try write(account, #"{"account": {"beep": true}}"#)
        #expect(try lastError() == "")
    }

    @Test func writesAreBufferedPerOpenFile() throws {
        let account = try inode("account.json")
        let a = try fs.open(account, flags: O_WRONLY | O_TRUNC, caller: root)
        let b = try fs.open(account, flags: O_WRONLY | O_TRUNC, caller: root)
        defer { fs.release(a); fs.release(b) }
        for (h, days) in [(a, 30), (b, 60)] {
            var bytes = Array(#"{"account": {"retentionDays": \#(days)}}"#.utf8)
            _ = try bytes.withUnsafeMutableBytes { try fs.write(h, offset: 0, bytes: UnsafeRawBufferPointer($0)) }
        }
        // Nothing applies before a close, and readers see the settings as they are.
        #expect(try f.store.currentSettings().settings.account.retentionDays == 90)
        #expect(try read(account).contains(#""retentionDays": 90"#))
        try fs.flush(b, caller: root)
        try fs.flush(a, caller: root)
        #expect(try f.store.currentSettings().settings.account.retentionDays == 30, "the last close wins, whole")
    }

    /// A child that inherited the descriptor closes its copy first: no verdict there; the
    /// opener's close gets it, and every later close too, until the file is written again.
    @Test func theOpenersCloseGetsTheVerdict() throws {
        let account = try inode("account.json")
        let h = try fs.open(account, flags: O_WRONLY | O_TRUNC, caller: root)
        var bytes = Array(#"{"account": {"beep": "loud"}}"#.utf8)
        _ = try bytes.withUnsafeMutableBytes { try fs.write(h, offset: 0, bytes: UnsafeRawBufferPointer($0)) }
        try fs.flush(h, caller: Caller(uid: 0, gid: 0, pid: getpid()))  // another process's close: nothing judged
        #expect(try lastError() == "")
        #expect(throws: FSError(EINVAL)) { try fs.flush(h, caller: root) }
        #expect(throws: FSError(EINVAL)) { try fs.flush(h, caller: root) }
        #expect(try lastError().contains("account.beep"))
        bytes = Array(#"{"account": {"beep": true}}"#.utf8)
        _ = try bytes.withUnsafeMutableBytes { try fs.write(h, offset: 0, bytes: UnsafeRawBufferPointer($0)) }
        _ = try fs.setattr(account, AttributeChange(size: Int64(bytes.count)), handle: h, caller: root)
        // Nobody's close judged this; the last close of all (release) applies it.
        fs.release(h)
        #expect(try f.store.currentSettings().settings.account.beep)
    }

    @Test func truncationWithAHandleIsBuffered() throws {
        let account = try inode("account.json")
        let h = try fs.open(account, flags: O_RDWR, caller: root)
        defer { fs.release(h) }
        let shown = try fs.getattr(account, caller: root).size
        _ = try fs.setattr(account, AttributeChange(size: shown - 1), handle: h, caller: root)
        try fs.flush(h, caller: root)  // the document without its last newline: valid, no change
        _ = try fs.setattr(account, AttributeChange(size: 0), handle: h, caller: root)
        #expect(throws: FSError(EINVAL)) { try fs.flush(h, caller: root) }
        #expect(try lastError().contains("empty"))
        #expect(throws: FSError(EINVAL)) { _ = try fs.setattr(account, AttributeChange(size: 10), handle: nil, caller: root) }
        #expect(try fs.getattr(account, caller: root).size == shown)
    }

    @Test func tooLargeIsRefused() throws {
        let h = try fs.open(try inode("account.json"), flags: O_WRONLY, caller: root)
        defer { fs.release(h) }
        let byte: [UInt8] = [0x20]
        #expect(throws: FSError(EFBIG)) {
            _ = try byte.withUnsafeBytes { try fs.write(h, offset: Int64(SettingsTree.maxFileSize), bytes: $0) }
        }
    }

    @Test func onlyRootAndTheOwnerWrite() throws {
        let account = try inode("account.json")
        #expect(throws: FSError(EACCES)) { _ = try fs.open(account, flags: O_WRONLY, caller: stranger) }
        #expect(throws: FSError(EACCES)) { _ = try fs.create(parent: settingsFolder, name: "x.tmp", mode: 0o644, flags: O_WRONLY, caller: stranger) }
        #expect(throws: FSError(EACCES)) { try fs.unlink(parent: flowsFolder, name: "sales.json", caller: stranger) }
        #expect(try lastError(stranger).contains("only root and the mount's owner"))
        #expect(fs.access(account, mask: W_OK, caller: stranger) == EACCES)
        #expect(fs.access(account, mask: W_OK, caller: root) == 0)
        // Reading is open to whoever reaches the mount.
        #expect(try read(account, as: stranger).contains("accountSid"))
        let owner = Caller(uid: getuid(), gid: getgid(), pid: 4)
        try write(account, #"{"account": {"beep": true}}"#, as: owner)
    }

    /// `sed -i`: a scratch file written, then renamed over the settings file.
    @Test func scratchFilesRenameIntoPlace() throws {
        let made = try fs.create(parent: settingsFolder, name: "sedXy12ab", mode: 0o600, flags: O_WRONLY | O_CREAT | O_EXCL, caller: root)
        var bytes = Array(#"{"account": {"retentionDays": 45}}"#.utf8)
        _ = try bytes.withUnsafeMutableBytes { try fs.write(made.handle, offset: 0, bytes: UnsafeRawBufferPointer($0)) }
        try fs.flush(made.handle, caller: root)
        fs.release(made.handle)
        #expect(try f.store.currentSettings().settings.account.retentionDays == 90, "a scratch file applies nothing")
        #expect(try fs.list(settingsFolder, caller: root).map(\.name).contains("sedXy12ab"))
        try fs.rename(parent: settingsFolder, name: "sedXy12ab", newParent: settingsFolder, newName: "account.json", flags: 0, caller: root)
        #expect(try f.store.currentSettings().settings.account.retentionDays == 45)
        #expect(!(try fs.list(settingsFolder, caller: root).map(\.name).contains("sedXy12ab")))

        // Refused: the scratch file stays, the settings too.
        let bad = try fs.create(parent: settingsFolder, name: "bad.tmp", mode: 0o600, flags: O_WRONLY | O_CREAT, caller: root)
        bytes = Array(#"{"account": {"retentionDays": 1}}"#.utf8)
        _ = try bytes.withUnsafeMutableBytes { try fs.write(bad.handle, offset: 0, bytes: UnsafeRawBufferPointer($0)) }
        fs.release(bad.handle)
        #expect(throws: FSError(EINVAL)) {
            try fs.rename(parent: settingsFolder, name: "bad.tmp", newParent: settingsFolder, newName: "account.json", flags: 0, caller: root)
        }
        #expect(try f.store.currentSettings().settings.account.retentionDays == 45)
        #expect(try lastError().contains("account.retentionDays: 1 is outside"))
        // Over an unknown settings name: refused.
        #expect(throws: FSError(EINVAL)) {
            try fs.rename(parent: settingsFolder, name: "bad.tmp", newParent: settingsFolder, newName: "acount.json", flags: 0, caller: root)
        }
        #expect(try lastError().contains("acount.json is not a settings file"))
        try fs.unlink(parent: settingsFolder, name: "bad.tmp", caller: root)
        #expect(throws: FSError.noEntry) { _ = try inode("bad.tmp") }
    }

    /// vim's write by rename: the file moves to a backup name, a new one is written, the backup removed.
    @Test func renamingASettingsFileAwayCopiesIt() throws {
        let before = try read(try inode("account.json"))
        try fs.rename(parent: settingsFolder, name: "account.json", newParent: settingsFolder, newName: "account.json~", flags: 0, caller: root)
        #expect(try read(try inode("account.json~")) == before)
        #expect(try read(try inode("account.json")) == before, "the settings stay")
        let made = try fs.create(parent: settingsFolder, name: "account.json", mode: 0o644, flags: O_WRONLY | O_CREAT | O_TRUNC, caller: root)
        var bytes = Array(#"{"account": {"beep": true}}"#.utf8)
        _ = try bytes.withUnsafeMutableBytes { try fs.write(made.handle, offset: 0, bytes: UnsafeRawBufferPointer($0)) }
        try fs.flush(made.handle, caller: root)
        fs.release(made.handle)
        try fs.unlink(parent: settingsFolder, name: "account.json~", caller: root)
        #expect(try f.store.currentSettings().settings.account.beep)
        #expect(throws: FSError(EPERM)) { try fs.unlink(parent: settingsFolder, name: "account.json", caller: root) }
    }

    @Test func flowFilesAddMoveAndRemoveOverrides() throws {
        let made = try fs.create(parent: flowsFolder, name: "support.json", mode: 0o644, flags: O_WRONLY | O_CREAT, caller: root)
        #expect(try fs.list(flowsFolder, caller: root).map(\.name) == ["sales.json", "support.json"], "visible while being written")
        var bytes = Array(#"{"override": true, "mode": "dual"}"#.utf8)
        _ = try bytes.withUnsafeMutableBytes { try fs.write(made.handle, offset: 0, bytes: UnsafeRawBufferPointer($0)) }
        try fs.flush(made.handle, caller: root)
        fs.release(made.handle)
        #expect(try f.store.currentSettings().settings.flows["support"]?.mode == .dual)

        try fs.rename(parent: flowsFolder, name: "support.json", newParent: flowsFolder, newName: "billing.json", flags: 0, caller: root)
        let flows = try f.store.currentSettings().settings.flows
        #expect(flows["support"] == nil && flows["billing"]?.mode == .dual)

        try fs.unlink(parent: flowsFolder, name: "billing.json", caller: root)
        #expect(try f.store.currentSettings().settings.flows["billing"] == nil)
        #expect(try fs.list(flowsFolder, caller: root).map(\.name) == ["sales.json"])

        // A flow file created and closed empty adds nothing, and is gone after.
        let empty = try fs.create(parent: flowsFolder, name: "empty.json", mode: 0o644, flags: O_WRONLY | O_CREAT, caller: root)
        #expect(throws: FSError(EINVAL)) { try fs.flush(empty.handle, caller: root) }
        fs.release(empty.handle)
        #expect(throws: FSError.noEntry) { _ = try inode("empty.json", in: flowsFolder) }
        #expect(throws: FSError(EINVAL)) { _ = try fs.create(parent: flowsFolder, name: "no good.json", mode: 0o644, flags: O_WRONLY, caller: root) }
    }

    @Test func nothingElseIsMadeThere() throws {
        #expect(fs.refuseChange(in: settingsFolder) == FSError(EPERM))
        #expect(fs.refuseChange(in: 1) == .readOnly)
        #expect(throws: FSError.readOnly) { _ = try fs.create(parent: 1, name: "x", mode: 0o644, flags: O_WRONLY, caller: root) }
        #expect(throws: FSError(EACCES)) { _ = try fs.open(try inode(".last-error"), flags: O_WRONLY, caller: root) }
        #expect(fs.openHandles == 0)
    }

    @Test func aSettingsChangeTellsTheTreeToForget() throws {
        fs.settingsMayHaveChanged()  // the fixture's settings, set after the filesystem was made
        fs.settingsMayHaveChanged()  // and the repeat that follows every change
        let forgotten = Box()
        fs.forget = { days, _, _ in forgotten.set(days) }
        let days = try f.days().map(\.name)
        fs.settingsMayHaveChanged()
        #expect(forgotten.get() == nil, "no change, nothing to forget")
        try write(try inode("account.json"), #"{"account": {"retentionDays": 30}}"#)
        #expect(Set(forgotten.get() ?? []) == Set(days))
    }
}

final class Box: @unchecked Sendable {
    private var value: [String]?
    private let lock = NSLock()
    func set(_ v: [String]) { lock.withLock { value = v } }
    func get() -> [String]? { lock.withLock { value } }
}
