// CallDocument: the size of a call folder's `call.json` (the document itself is built by the
// store: Store+CallDocument) and the extended attributes of a call and its files.

import RecordingCore
import RecordingStore

extension RecordingFileSystem {
    /// The size of `call.json`: catalogued since v4; built once and cached for recordings
    /// ingested before.
    func callDocumentSize(_ c: CallFolder, now: Int64) throws -> Int64 {
        if let size = c.documentSize { return size }
        let key = SizeCache.Key(number: c.number, expiresAt: c.expiresAt)
        if let size = documentSizes.get(key) { return size }
        guard let r = try store.recording(number: c.number, now: now) else { throw FSError.noEntry }
        let size = Int64(try store.callDocument(r).count)
        documentSizes.set(key, size)
        return size
    }

    /// The extended attributes of a call folder or one of its files.
    func attributes(_ r: RecordingRow, file: CallFile?) -> [(String, String)] {
        var a: [(String, String)] = [
            ("user.recfs.call_sid", r.callSid),
            ("user.recfs.flow", r.flow),
            ("user.recfs.outcome", r.outcome),
            ("user.recfs.started_at", Timestamp(milliseconds: r.callStartedAt).description),
            ("user.recfs.expires_at", Timestamp(milliseconds: r.expiresAt).description),
            ("user.recfs.region", r.region),
            ("user.recfs.recording_id", r.id),
        ]
        switch file {
        case nil, .recording?:
            a += [("user.recfs.format", r.format), ("user.recfs.mode", r.mode), ("user.recfs.channels", String(r.channels)),
                  ("user.recfs.channel_map", r.channelMap), ("user.recfs.sample_rate", String(r.sampleRate)),
                  ("user.recfs.duration_ms", String(r.durationMs))]
            if file == .recording { a.append(("user.recfs.sha256", r.sha256)) }
        case .agent?, .customer?:
            a += [("user.recfs.format", "wav"), ("user.recfs.channels", "1"),
                  ("user.recfs.channel", file == .agent ? "agent" : "customer"),
                  ("user.recfs.sample_rate", String(r.sampleRate)), ("user.recfs.duration_ms", String(r.durationMs))]
        case .callJSON?:
            break
        }
        return a
    }

    /// The value of extended attribute `name`.
    public func getxattr(_ inode: UInt64, name: String) throws(FSError) -> [UInt8] {
        // Tools ask every file for security.* and system.* attributes (ls -l for ACLs and
        // labels). The tree has neither: "not supported" (rather than "no such attribute")
        // lets ls stop asking for the rest of the device, which saves it two round trips
        // per file. Answered without touching the catalog.
        guard name.hasPrefix("user.") else { throw .notSupported }
        guard name.hasPrefix("user.recfs.") else { throw .noAttribute }
        guard let value = try xattrs(inode).first(where: { $0.0 == name })?.1 else { throw .noAttribute }
        return Array(value.utf8)
    }

    /// The names of the extended attributes of `inode`.
    public func listxattr(_ inode: UInt64) throws(FSError) -> [String] {
        try xattrs(inode).map(\.0)
    }

    func xattrs(_ inode: UInt64) throws(FSError) -> [(String, String)] {
        guard let node = Node(inode: inode) else { throw .noEntry }
        return try guarded("xattr") { () throws -> [(String, String)] in
            switch node {
            case .call(let n):
                guard let r = try store.recording(number: n, now: now) else { throw FSError.noEntry }
                return attributes(r, file: nil)
            case .file(let n, let kind):
                guard let r = try store.recording(number: n, now: now) else { throw FSError.noEntry }
                return attributes(r, file: kind)
            default:
                return []
            }
        }
    }
}
