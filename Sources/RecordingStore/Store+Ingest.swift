// Store+Ingest: the store's half of ingest. The recording engine decides and renders; the store
// recognises re-deliveries, seals the recording, moves it into place and catalogues the call,
// all or nothing.

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

/// A recording made by the engine, in memory, ready to be sealed.
public struct RenderedRecording: Sendable {
    /// The whole file: WAV or MP3.
    public let bytes: [UInt8]
    public let format: AudioFormat
    public let mode: RecordingMode
    public let channels: Int
    /// What each channel holds, left first: `["agent", "customer"]` or `["mixed"]`.
    public let channelMap: [String]
    /// The file's sample rate (an MP3's may differ from the legs': lame resamples).
    public let sampleRate: Int
    /// 16 for PCM WAV; 0 for MP3.
    public let bitsPerSample: Int
    public let durationMilliseconds: Int64
    /// The instant the audio starts (answer or connect).
    public let recordedFrom: Timestamp

    public init(bytes: [UInt8], format: AudioFormat, mode: RecordingMode, channels: Int, channelMap: [String],
                sampleRate: Int, bitsPerSample: Int, durationMilliseconds: Int64, recordedFrom: Timestamp) {
        self.bytes = bytes
        self.format = format
        self.mode = mode
        self.channels = channels
        self.channelMap = channelMap
        self.sampleRate = sampleRate
        self.bitsPerSample = bitsPerSample
        self.durationMilliseconds = durationMilliseconds
        self.recordedFrom = recordedFrom
    }
}

/// A decided call, ready to be catalogued: the call, how its inputs hash, the decision (the
/// effective settings with their reasons and what the engine made) and the recording or why none.
public struct CallRecord: Sendable {
    public let call: CallDescription
    /// SHA-256 over the call JSON and both legs, to recognise an identical re-delivery.
    public let inputDigest: String
    public let effective: EffectiveSettings
    /// Catalogued as the call's `effectiveSettings`.
    public let decision: JSONValue
    public let recording: RenderedRecording?
    /// Why there is no recording (nil exactly when `recording` is set).
    public let noRecordingReason: String?

    public init(call: CallDescription, inputDigest: String, effective: EffectiveSettings, decision: JSONValue,
                recording: RenderedRecording?, noRecordingReason: String?) {
        precondition((recording == nil) != (noRecordingReason == nil), "a call has a recording or a reason for none")
        self.call = call
        self.inputDigest = inputDigest
        self.effective = effective
        self.decision = decision
        self.recording = recording
        self.noRecordingReason = noRecordingReason
    }
}

extension Store {
    /// Calls shorter than this are catalogued without a recording (the seed's 2 s rule).
    public static let minimumRecordingMilliseconds: Int64 = 2000

    /// The effective settings of `call` under the account's current settings. Refuses a call
    /// of another account.
    public func effectiveSettings(for call: CallDescription) throws -> EffectiveSettings {
        guard call.account == account.sid else {
            throw InvalidDocument([SettingsViolation(path: "account", reason: "\(call.account) is not this store's account (\(account.sid))")], what: "call")
        }
        let (settings, _) = try currentSettings()
        return SettingsResolver.resolve(settings, plan: plan, call: call.request)
    }

    /// A call delivered again: nil when `sid` is new; what is stored when the inputs are
    /// identical; refused when they differ (a call is recorded once).
    public func previousIngest(of sid: String, inputDigest: String) throws -> IngestResult? {
        guard let existing = try existingCall(sid) else { return nil }
        guard existing.inputSha256 == inputDigest else {
            throw StoreError("call \(sid) was already ingested with different inputs; a call is recorded once")
        }
        let recording = try existing.recordingId.flatMap { id in try catalog.pool.read { db in try RecordingRow.fetchOne(db, key: id) } }
        return IngestResult(call: existing, recording: recording, alreadyIngested: true)
    }

    /// Stores a decided call.
    ///
    /// Atomic: the recording is sealed under a staging name, synced and renamed into place,
    /// then the call, the recording and an audit event are catalogued in one transaction. A
    /// crash leaves either the whole recording or an orphan blob that `fsck --repair` removes;
    /// never a catalogued recording without its blob. A concurrent ingest of the same call
    /// ends as a re-delivery (identical inputs) or a refusal.
    public func record(_ record: CallRecord, actor: String) throws -> IngestResult {
        let call = record.call
        let now = clock()
        var callRow = CallRow(
            sid: call.callSid, accountSid: account.sid, flow: call.flow, direction: call.direction.rawValue,
            fromNumber: call.from, toNumber: call.to, callerId: call.callerId, outcome: call.outcome,
            startedAt: call.startedAt.milliseconds, answeredAt: call.answeredAt?.milliseconds,
            connectedAt: call.connectedAt?.milliseconds, endedAt: call.endedAt.milliseconds,
            recordParameter: call.record, channelsParameter: call.recordingChannels?.rawValue,
            effectiveSettings: record.decision.compact(), recordingId: nil, noRecordingReason: record.noRecordingReason,
            inputSha256: record.inputDigest, ingestedAt: now)

        guard let rendered = record.recording else {
            do {
                try catalogue(callRow, recording: nil, actor: actor, now: now)
            } catch {
                if let previous = try previousIngest(of: call.callSid, inputDigest: record.inputDigest) { return previous }
                throw error
            }
            return IngestResult(call: callRow, recording: nil, alreadyIngested: false)
        }

        // Seal into staging, then move the blob into place before the catalog names it; the
        // shared store lock keeps fsck --repair from taking the blob for an orphan meanwhile.
        return try withStoreLock(exclusive: false) {
            try Files.makeDirectories(stagingPath)
            let staged = stagingPath + "/" + Hex.encode(SecureRandom.bytes(12)) + ".partial"
            let sealed = try vault.seal(plaintext: rendered.bytes, stagedPath: staged)
            let region = record.effective.region.rawValue
            let blobs = blobStore(region: region)
            let c = call.startedAt.civil(offsetSeconds: 0)
            let blobKey = String(format: "%@/%04d/%02d/%02d/%@.rec", account.sid, c.year, c.month, c.day, sealed.recordingId)
            do {
                try blobs.put(blobKey, stagedPath: staged)
            } catch {
                unlink(staged)
                throw StoreError("storing the recording of call \(call.callSid) in \(blobs.name) failed: \(error)")
            }
            let channelMap = "[" + rendered.channelMap.map(JSONValue.quote).joined(separator: ",") + "]"
            var recording = RecordingRow(
                id: sealed.recordingId, callSid: call.callSid, accountSid: account.sid, flow: call.flow, outcome: call.outcome,
                callStartedAt: call.startedAt.milliseconds, recordedFrom: rendered.recordedFrom.milliseconds,
                durationMs: rendered.durationMilliseconds, mode: rendered.mode.rawValue,
                format: rendered.format.rawValue, channels: rendered.channels, channelMap: channelMap,
                sampleRate: rendered.sampleRate, bitsPerSample: rendered.bitsPerSample, plaintextSize: sealed.plaintextSize,
                sha256: sealed.sha256, region: region, blobStore: "local", blobKey: blobKey, chunkSize: sealed.chunkSize,
                wrappedKey: Data(sealed.wrappedKey), keyId: sealed.keyId, createdAt: now,
                expiresAt: call.startedAt.milliseconds + Int64(record.effective.retentionDays.value) * 86_400_000, purgedAt: nil)
            callRow.recordingId = recording.id
            recording.documentSize = Int64(Store.callDocument(call: callRow, recording: recording).count)
            do {
                try catalogue(callRow, recording: recording, actor: actor, now: now)
            } catch {
                try? blobs.delete(blobKey)
                if let previous = try previousIngest(of: call.callSid, inputDigest: record.inputDigest) { return previous }
                throw error
            }
            return IngestResult(call: callRow, recording: recording, alreadyIngested: false)
        }
    }

    func existingCall(_ sid: String) throws -> CallRow? {
        try catalog.pool.read { db in try CallRow.fetchOne(db, key: sid) }
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
