// CallDiagnosis: why a call has the recording it has, row by row of the seed's troubleshooting
// table, from what ingest catalogued (the decision, the leg measures) and the store's state.

import RecordingCore
import RecordingStore

/// The answer to one row of the troubleshooting table for one call.
public struct Finding: Sendable {
    public enum Status: String, Sendable { case ok, problem, info }
    /// The table's "Issue" column ("No recording for a call").
    public let issue: String
    public let status: Status
    /// What recfs found for this call, in a sentence or two.
    public let finding: String
    /// What to do about it, when something is to be done.
    public let resolution: String?
}

/// Everything `recfs doctor` says about a call.
public struct CallDiagnosis: Sendable {
    public let call: CallRow
    public let recording: RecordingRow?
    public let findings: [Finding]
    /// Where the recording is kept, in a sentence (or why there is nothing stored).
    public let storage: String
    /// When it expires, in a sentence.
    public let expiry: String
    public let expired: Bool

    /// Diagnoses call `sid` of `store`.
    public static func diagnose(_ sid: String, in store: Store) throws -> CallDiagnosis {
        let (call, recording) = try store.callAndRecording(sid)
        let decision = (try? JSONValue.parse(Array(call.effectiveSettings.utf8))) ?? .object([])
        let settings = try store.currentSettings().settings
        let now = store.now
        let made = decision["recording"]
        let reason = call.noRecordingReason

        var findings: [Finding] = []
        findings.append(enabledFinding(call, decision: decision, reason: reason))
        findings.append(lengthFinding(call, recording: recording, reason: reason))
        findings.append(dualFinding(decision: decision, recording: recording, plan: store.plan))
        findings.append(qualityFinding(made?["legs"], answered: call.answeredAt != nil))
        findings.append(storageFinding(settings.storage, region: recording?.region ?? settings.account.region.rawValue))

        var storage = "nothing is stored: the call has no recording"
        var expiry = "nothing expires: the call has no recording"
        var expired = false
        if let r = recording {
            storage = "encrypted (AES-256-GCM, data key wrapped by account key \(r.keyId)) in region \(r.region), blob store \(r.blobStore), key \(r.blobKey); \(r.plaintextSize) bytes, SHA-256 \(r.sha256)"
            let retention = decision["retentionDays"]?["reason"].flatMap { if case let .string(s) = $0 { s } else { nil } }
            let at = Timestamp(milliseconds: r.expiresAt)
            if let purged = r.purgedAt {
                expired = true
                expiry = "deleted for good at \(Timestamp(milliseconds: purged)); it expired at \(at)"
            } else if r.expiresAt <= now {
                expired = true
                expiry = "expired at \(at): it is no longer readable and the sweeper deletes it for good"
            } else {
                let days = (r.expiresAt - now) / 86_400_000
                expiry = "expires at \(at), in \(days) day\(days == 1 ? "" : "s")" + (retention.map { " (\($0))" } ?? "")
            }
        }
        return CallDiagnosis(call: call, recording: recording, findings: findings, storage: storage, expiry: expiry, expired: expired)
    }

    static func string(_ v: JSONValue?) -> String? { if case let .string(s)? = v { s } else { nil } }

    static func enabledFinding(_ call: CallRow, decision: JSONValue, reason: String?) -> Finding {
        let issue = "No recording for a call"
        let layer = string(decision["enabled"]?["layer"]) ?? "account"
        let why = string(decision["enabled"]?["reason"]) ?? "unknown"
        if call.answeredAt == nil {
            return Finding(issue: issue, status: .info, finding: "the call was not answered (outcome \(call.outcome)), so there was no audio to record", resolution: nil)
        }
        if decision["enabled"]?["value"] == .bool(false) {
            let resolution: String
            switch layer {
            case "call": resolution = "the call was placed with Record=false; place it with Record=true (or leave Record out) to record it"
            case "flow": resolution = "check flow-level recording settings: flows.\(call.flow) in `recfs settings show` overrides the account with recording disabled"
            default: resolution = "recording is off for the whole account: set account.enabled to true with `recfs settings set`"
            }
            return Finding(issue: issue, status: .problem, finding: "recording is not enabled for this call: the \(layer) settings disabled it (\(why))", resolution: resolution)
        }
        return Finding(issue: issue, status: .ok, finding: "recording was enabled for this call by the \(layer) settings (\(why))", resolution: nil)
    }

    static func lengthFinding(_ call: CallRow, recording: RecordingRow?, reason: String?) -> Finding {
        let issue = "Recording is empty"
        if let r = recording {
            return Finding(issue: issue, status: .ok, finding: "the recording lasts \(Double(r.durationMs) / 1000) s, at least the 2 s minimum", resolution: nil)
        }
        if let reason, reason.contains("under the 2 s minimum") {
            return Finding(issue: issue, status: .problem, finding: "the call was too short: \(reason)", resolution: "very short calls (under 2 s) do not generate recordings")
        }
        return Finding(issue: issue, status: .info, finding: "no recording was made, for another reason: \(reason ?? "none given")", resolution: nil)
    }

    static func dualFinding(decision: JSONValue, recording: RecordingRow?, plan: Plan) -> Finding {
        let issue = "Dual-channel not working"
        let downgrades: [String]
        if case let .array(items)? = decision["downgrades"] { downgrades = items.compactMap { string($0) } } else { downgrades = [] }
        if let downgrade = downgrades.first(where: { $0.contains("dual-channel") }) {
            return Finding(issue: issue, status: .problem, finding: downgrade,
                           resolution: "dual-channel is not enabled on the \(plan.displayName) plan: contact your account manager to move to Growth or Enterprise")
        }
        let mode = string(decision["mode"]?["value"]) ?? "single"
        let why = string(decision["mode"]?["reason"]) ?? "unknown"
        if mode == "dual" {
            let made = recording.map { r in r.mode == "dual" ? "; the recording is stereo WAV, channels \(r.channelMap)" : "" } ?? ""
            return Finding(issue: issue, status: .ok, finding: "dual-channel was asked for and given (\(why))\(made)", resolution: nil)
        }
        return Finding(issue: issue, status: .info, finding: "dual-channel was not asked for: single-channel (\(why))", resolution: nil)
    }

    static func qualityFinding(_ legs: JSONValue?, answered: Bool) -> Finding {
        let issue = "Recording quality poor"
        let cdr = "recfs has no network measures (jitter, packet loss): check call quality metrics in the CDR"
        guard answered else { return Finding(issue: issue, status: .info, finding: "the call was not answered: there is no audio to judge", resolution: nil) }
        guard let legs, legs["agent"] != nil else {
            return Finding(issue: issue, status: .info, finding: "no audio measures were catalogued for this call (ingested before the recording engine)", resolution: cdr)
        }
        var parts: [String] = [], problems: [String] = []
        for party in ["agent", "customer"] {
            guard let m = legs[party] else { continue }
            func number(_ key: String) -> Double { if case let .number(n)? = m[key] { Double(n) ?? 0 } else { 0 } }
            let clipped = number("clippedShare"), silent = number("silentShare")
            parts.append("\(party) leg \(Int(number("sampleRate"))) Hz, \(percent(clipped)) clipped, \(percent(silent)) silent, peak \(number("peakDbfs")) dBFS")
            if clipped > 0.001 { problems.append("the \(party) leg clips (\(percent(clipped)) of samples at full scale): levels too high") }
            if silent > 0.98 { problems.append("the \(party) leg is almost all silence (\(percent(silent))): one-way audio or a muted party") }
        }
        let measured = parts.joined(separator: "; ")
        if problems.isEmpty {
            return Finding(issue: issue, status: .ok, finding: "\(measured); nothing wrong in the audio itself", resolution: cdr)
        }
        return Finding(issue: issue, status: .problem, finding: "\(measured): " + problems.joined(separator: "; "), resolution: cdr)
    }

    static func percent(_ share: Double) -> String {
        let p = share * 100
        return p == 0 ? "0 %" : p < 0.1 ? "\((p * 1000).rounded() / 1000) %" : "\((p * 10).rounded() / 10) %"
    }

    static func storageFinding(_ storage: StorageSettings, region: String) -> Finding {
        let issue = "Custom storage not receiving files"
        if storage.kind == "default" {
            return Finding(issue: issue, status: .ok, finding: "the account uses default storage: recordings are kept encrypted by recfs in region \(region); no custom storage is configured", resolution: nil)
        }
        return Finding(issue: issue, status: .problem,
                       finding: "the account is configured for custom storage (\(storage.kind)), but this recfs has no storage adapters yet: the recording is kept in default storage in region \(region) and is not delivered",
                       resolution: "custom storage delivery arrives with the storage adapters; until then recordings stay in default storage")
    }

    /// As printed by `recfs doctor --json`.
    public var json: JSONValue {
        var recordingJSON: JSONValue = .null
        if let r = recording {
            recordingJSON = .object([
                ("mode", .string(r.mode)), ("format", .string(r.format)), ("durationMs", .number(String(r.durationMs))),
                ("size", .number(String(r.plaintextSize))), ("region", .string(r.region)), ("blobStore", .string(r.blobStore)),
                ("blobKey", .string(r.blobKey)), ("expiresAt", .string(Timestamp(milliseconds: r.expiresAt).description)),
                ("expired", .bool(expired)),
            ])
        }
        return .object([
            ("callSid", .string(call.sid)), ("flow", .string(call.flow)), ("outcome", .string(call.outcome)),
            ("startedAt", .string(Timestamp(milliseconds: call.startedAt).description)),
            ("recording", recordingJSON),
            ("noRecordingReason", call.noRecordingReason.map(JSONValue.string) ?? .null),
            ("findings", .array(findings.map { f in
                .object([("issue", .string(f.issue)), ("status", .string(f.status.rawValue)), ("finding", .string(f.finding)),
                         ("resolution", f.resolution.map(JSONValue.string) ?? .null)])
            })),
            ("storage", .string(storage)), ("expiry", .string(expiry)),
        ])
    }
}
