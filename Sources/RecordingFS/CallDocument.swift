// CallDocument: the `call.json` of a call folder — parties, times, outcome, the recording's
// shape, where it is stored and until when — made from the catalog, the same bytes every time.

import RecordingCore
import RecordingStore

extension RecordingFileSystem {
    /// The size of `call.json`, from the cache when it was built before.
    func callDocumentSize(_ r: RecordingRow) throws -> Int64 {
        let key = SizeCache.Key(number: r.number ?? 0, expiresAt: r.expiresAt)
        if let size = documentSizes.get(key) { return size }
        let size = Int64(try callDocument(r).count)
        documentSizes.set(key, size)
        return size
    }

    /// The bytes of `call.json` for a recording: the call and recording as pretty JSON, then
    /// the catalogued decision (effective settings with their reasons) as stored.
    func callDocument(_ r: RecordingRow) throws -> [UInt8] {
        let call = try store.call(r.callSid)
        func time(_ ms: Int64?) -> JSONValue { ms.map { .string(Timestamp(milliseconds: $0).description) } ?? .null }
        let doc = JSONValue.object([
            ("callSid", .string(call.sid)),
            ("account", .string(call.accountSid)),
            ("flow", .string(call.flow)),
            ("direction", .string(call.direction)),
            ("from", .string(call.fromNumber)),
            ("to", .string(call.toNumber)),
            ("callerId", call.callerId.map(JSONValue.string) ?? .null),
            ("outcome", .string(call.outcome)),
            ("startedAt", time(call.startedAt)),
            ("answeredAt", time(call.answeredAt)),
            ("connectedAt", time(call.connectedAt)),
            ("endedAt", time(call.endedAt)),
            ("recording", .object([
                ("file", .string(r.fileName)),
                ("format", .string(r.format)),
                ("mode", .string(r.mode)),
                ("channels", .int(r.channels)),
                ("channelMap", (try? JSONValue.parse(r.channelMap)) ?? .null),
                ("sampleRate", .int(r.sampleRate)),
                ("bitsPerSample", .int(r.bitsPerSample)),
                ("durationMs", .number(String(r.durationMs))),
                ("recordedFrom", time(r.recordedFrom)),
                ("size", .number(String(r.plaintextSize))),
                ("sha256", .string(r.sha256)),
            ])),
            ("storage", .object([
                ("kind", .string("default")),
                ("region", .string(r.region)),
                ("encryption", .string("AES-256-GCM, per-recording data key wrapped by account key \(r.keyId)")),
            ])),
            ("retention", .object([("expiresAt", time(r.expiresAt))])),
        ])
        // The decision is catalogued as compact JSON; it goes in as it is, not parsed again.
        var text = doc.prettyPrinted()
        text.removeLast(2)  // "\n}"
        text += ",\n  \"settings\": " + call.effectiveSettings + "\n}\n"
        return Array(text.utf8)
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
