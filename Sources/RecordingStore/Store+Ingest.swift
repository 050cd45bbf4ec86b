// Store+Ingest: a finished call in; its recording sealed, stored and catalogued atomically.

import Foundation
import GRDB
import Glibc
import RecordingCore

/// What ingesting one call did.
public struct IngestResult: Sendable {
    public let call: CallRow
    /// The stored recording, or nil when the call has none (`call.noRecordingReason` says why).
    public let recording: RecordingRow?
    /// True when the call had already been ingested with identical inputs (nothing was stored again).
    public let alreadyIngested: Bool
}

extension Store {
    /// Calls shorter than this are catalogued without a recording (the seed's 2 s rule).
    public static let minimumRecordingMilliseconds: Int64 = 2000

    /// Ingests the call described by the JSON file at `path`.
    ///
    /// Atomic: the blob is written under a staging name, synced and renamed into place, then
    /// the call, the recording and an audit event are catalogued in one transaction. A crash
    /// leaves either the whole recording or an orphan blob that `fsck --repair` removes; never
    /// a catalogued recording without its blob. Bad input is refused before anything is stored.
    public func ingest(callFile path: String, actor: String) throws -> IngestResult {
        let jsonBytes = try Files.read(path, limit: 1 << 20)
        let call = try CallDescription.decode(jsonBytes)
        guard call.account == account.sid else {
            throw InvalidDocument([SettingsViolation(path: "account", reason: "\(call.account) is not this store's account (\(account.sid))")], what: "call")
        }
        let base = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let recordingPath = call.recording.map { base + "/" + $0 }
        let inputSha = SHA256Hasher()
        inputSha.update(jsonBytes)
        let inputDigest = inputSha.finalizeHex()

        if let existing = try existingCall(call.callSid) {
            return try redelivery(existing, inputDigest: inputDigest, recordingPath: recordingPath)
        }

        let (settings, _) = try currentSettings()
        let effective = SettingsResolver.resolve(settings, plan: plan, call: call.request)
        var decision = effective.json
        var noRecordingReason: String?
        var probedInfo: AudioInfo?
        var probedFD: Int32 = -1
        defer { if probedFD >= 0 { close(probedFD) } }

        if call.answeredAt == nil {
            noRecordingReason = "the call was not answered (outcome \(call.outcome)): there is no audio to record"
        } else if !effective.enabled.value {
            noRecordingReason = "recording is disabled for this call: \(effective.enabled.reason)"
        } else if let recordingPath {
            let (info, fd) = try probeRecording(recordingPath, field: "recording")
            probedInfo = info
            probedFD = fd
            decision = Store.withDelivered(decision, info: info, effective: effective)
            if Int64(info.durationMilliseconds) < Store.minimumRecordingMilliseconds {
                noRecordingReason = "the recorded audio lasts \(Double(info.durationMilliseconds) / 1000) s, under the 2 s minimum: very short calls are not kept"
            }
        } else {
            throw InvalidDocument([SettingsViolation(path: "recording", reason: "required for an answered call whose recording is enabled (this recfs stores finished recordings; mixing legs arrives with the recording engine)")], what: "call")
        }

        let now = clock()
        let callRow = CallRow(
            sid: call.callSid, accountSid: account.sid, flow: call.flow, direction: call.direction.rawValue,
            fromNumber: call.from, toNumber: call.to, callerId: call.callerId, outcome: call.outcome,
            startedAt: call.startedAt.milliseconds, answeredAt: call.answeredAt?.milliseconds,
            connectedAt: call.connectedAt?.milliseconds, endedAt: call.endedAt.milliseconds,
            recordParameter: call.record, channelsParameter: call.recordingChannels?.rawValue,
            effectiveSettings: decision.compact(), recordingId: nil, noRecordingReason: noRecordingReason,
            inputSha256: inputDigest, ingestedAt: now)

        guard noRecordingReason == nil, let info = probedInfo, let recordingPath else {
            try catalogue(callRow, recording: nil, actor: actor, now: now)
            return IngestResult(call: callRow, recording: nil, alreadyIngested: false)
        }

        // Seal into staging, then move the blob into place before the catalog names it; the
        // shared store lock keeps fsck --repair from taking the blob for an orphan meanwhile.
        return try withStoreLock(exclusive: false) {
            try store(call, callRow, info: info, fd: probedFD, recordingPath: recordingPath,
                      effective: effective, inputDigest: inputDigest, actor: actor, now: now)
        }
    }

    func store(_ call: CallDescription, _ callRow: CallRow, info: AudioInfo, fd: Int32, recordingPath: String,
               effective: EffectiveSettings, inputDigest: String, actor: String, now: Int64) throws -> IngestResult {
        var callRow = callRow
        try Files.makeDirectories(stagingPath)
        let staged = stagingPath + "/" + Hex.encode(SecureRandom.bytes(12)) + ".partial"
        let sealed = try vault.seal(input: fd, inputPath: recordingPath, stagedPath: staged)
        let region = effective.region.rawValue
        let blobs = blobStore(region: region)
        let c = call.startedAt.civil(offsetSeconds: 0)
        let blobKey = String(format: "%@/%04d/%02d/%02d/%@.rec", account.sid, c.year, c.month, c.day, sealed.recordingId)
        do {
            try blobs.put(blobKey, stagedPath: staged)
        } catch {
            unlink(staged)
            throw StoreError("storing the recording of call \(call.callSid) in \(blobs.name) failed: \(error)")
        }
        let recordedFrom = (effective.startPoint == .connect ? call.connectedAt : nil) ?? call.answeredAt!
        let recording = RecordingRow(
            id: sealed.recordingId, callSid: call.callSid, accountSid: account.sid, flow: call.flow, outcome: call.outcome,
            callStartedAt: call.startedAt.milliseconds, recordedFrom: recordedFrom.milliseconds,
            durationMs: info.durationMilliseconds, mode: info.channels == 2 ? "dual" : "single",
            format: info.format.rawValue, channels: info.channels,
            channelMap: info.channels == 2 ? #"["agent","customer"]"# : #"["mixed"]"#,
            sampleRate: info.sampleRate, bitsPerSample: info.bitsPerSample, plaintextSize: sealed.plaintextSize,
            sha256: sealed.sha256, region: region, blobStore: "local", blobKey: blobKey, chunkSize: sealed.chunkSize,
            wrappedKey: Data(sealed.wrappedKey), keyId: sealed.keyId, createdAt: now,
            expiresAt: call.startedAt.milliseconds + Int64(effective.retentionDays.value) * 86_400_000, purgedAt: nil)
        callRow.recordingId = recording.id
        do {
            try catalogue(callRow, recording: recording, actor: actor, now: now)
        } catch {
            try? blobs.delete(blobKey)
            if let existing = try existingCall(call.callSid) {
                return try redelivery(existing, inputDigest: inputDigest, recordingPath: recordingPath)
            }
            throw error
        }
        return IngestResult(call: callRow, recording: recording, alreadyIngested: false)
    }

    /// Opens and probes a recording file; returns its shape and an open descriptor at offset 0.
    func probeRecording(_ path: String, field: String) throws -> (AudioInfo, Int32) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw InvalidDocument([SettingsViolation(path: field, reason: "cannot open \(path): \(String(cString: strerror(errno)))")], what: "call")
        }
        do {
            var st = stat()
            try SystemError.check("fstat", path) { fstat(fd, &st) }
            let size = Int(st.st_size)
            var prefix = [UInt8](repeating: 0, count: min(size, 1 << 16))
            let n = try prefix.withUnsafeMutableBytes { b in try SystemError.check("pread", path) { pread(fd, b.baseAddress, b.count, 0) } }
            prefix.removeLast(prefix.count - n)
            let bytes = AudioProbe.isWAV(prefix) ? prefix : try Files.read(path, limit: 1 << 30)
            switch Result(catching: { () throws(AudioProbeError) -> AudioInfo in try AudioProbe.probe(bytes, fileSize: size) }) {
            case .success(let info):
                return (info, fd)
            case .failure(let problem):
                throw InvalidDocument([SettingsViolation(path: field, reason: "\(path): \(problem.reason)")], what: "call")
            }
        } catch {
            close(fd)
            throw error
        }
    }

    /// The effective settings, plus what the delivered file is and whether it differs.
    static func withDelivered(_ decision: JSONValue, info: AudioInfo, effective: EffectiveSettings) -> JSONValue {
        guard case var .object(members) = decision else { return decision }
        let mode: RecordingMode = info.channels == 2 ? .dual : .single
        var delivered: [(key: String, value: JSONValue)] = [
            ("format", .string(info.format.rawValue)), ("mode", .string(mode.rawValue)),
            ("channels", .int(info.channels)), ("sampleRate", .int(info.sampleRate)),
            ("durationMs", .number(String(info.durationMilliseconds))),
        ]
        if mode != effective.mode.value || info.format != effective.format.value {
            delivered.append(("note", .string("the delivered file is \(mode.rawValue)-channel \(info.format.rawValue); the settings ask for \(effective.mode.value.rawValue)-channel \(effective.format.value.rawValue)")))
        }
        members.append(("delivered", .object(delivered)))
        return .object(members)
    }

    func existingCall(_ sid: String) throws -> CallRow? {
        try catalog.pool.read { db in try CallRow.fetchOne(db, key: sid) }
    }

    /// A call delivered again: identical inputs return what is stored; different ones are refused.
    func redelivery(_ existing: CallRow, inputDigest: String, recordingPath: String?) throws -> IngestResult {
        let recording = try existing.recordingId.flatMap { id in try catalog.pool.read { db in try RecordingRow.fetchOne(db, key: id) } }
        var same = existing.inputSha256 == inputDigest
        if same, let recording, let recordingPath {
            let hasher = SHA256Hasher()
            hasher.update(try Files.read(recordingPath, limit: 1 << 32))
            same = hasher.finalizeHex() == recording.sha256
        }
        guard same else {
            throw StoreError("call \(existing.sid) was already ingested with different inputs; a call is recorded once")
        }
        return IngestResult(call: existing, recording: recording, alreadyIngested: true)
    }

    func catalogue(_ call: CallRow, recording: RecordingRow?, actor: String, now: Int64) throws {
        try catalog.pool.write { db in
            if try FlowRow.fetchOne(db, key: ["accountSid": account.sid, "name": call.flow]) == nil {
                try FlowRow(accountSid: account.sid, name: call.flow, createdAt: now).insert(db)
            }
            try call.insert(db)
            try recording?.insert(db)
            var detail: [(key: String, value: JSONValue)] = [("flow", .string(call.flow))]
            if let r = recording {
                detail += [("recording", .string(r.id)), ("sha256", .string(r.sha256)), ("region", .string(r.region)),
                           ("expiresAt", .string(Timestamp(milliseconds: r.expiresAt).description))]
            } else {
                detail.append(("noRecording", .string(call.noRecordingReason ?? "")))
            }
            try Store.audit(db, at: now, actor: actor, action: "call.ingest", subject: call.sid, detail: .object(detail))
        }
    }
}
