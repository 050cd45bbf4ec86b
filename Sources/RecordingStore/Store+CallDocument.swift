// Store+CallDocument: the `call.json` the mount shows in each call folder, built from the
// catalog, the same bytes every time. Its size is catalogued at ingest (catalog v4) so a
// folder can be listed without building it.

import RecordingCore

extension Store {
    /// The bytes of `call.json` for a catalogued recording.
    public func callDocument(_ r: RecordingRow) throws -> [UInt8] {
        Store.callDocument(call: try call(r.callSid), recording: r)
    }

    /// The bytes of `call.json`: the call and recording as pretty JSON, then the catalogued
    /// decision (effective settings with their reasons) as stored.
    ///
    /// Its size does not change when a retention change moves the expiry: an expiry is the
    /// call's start plus whole days, so it prints with the same number of characters (the
    /// same milliseconds, a four-digit year). Key rotation changes it (the key id is named),
    /// and catalogues the new size.
    public static func callDocument(call: CallRow, recording r: RecordingRow) -> [UInt8] {
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
}
