// Resolution: the effective settings of one call (call > flow override > account), with the
// layer that decided each field and every downgrade the plan forced, in plain words.

/// Which layer decided a setting.
public enum SettingLayer: String, Sendable, Codable {
    case call, flow, account, plan
    /// A selective-retention rule (Enterprise).
    case retentionRule
}

/// A setting's value, the layer that decided it, and why, in one sentence.
public struct Decided<Value: Sendable & Equatable>: Sendable, Equatable {
    public let value: Value
    public let layer: SettingLayer
    public let reason: String

    public init(_ value: Value, _ layer: SettingLayer, _ reason: String) {
        self.value = value
        self.layer = layer
        self.reason = reason
    }
}

/// The per-call `RecordingChannels` parameter. `mono` and `single` both mean single-channel.
public enum RequestedChannels: String, CaseIterable, Sendable, Codable {
    case mono, single, dual
    public var mode: RecordingMode { self == .dual ? .dual : .single }
}

/// What a call brings to resolution: its flow and outcome, and its per-call parameters.
public struct CallRecordingRequest: Sendable, Equatable {
    public var flow: String
    public var outcome: String
    /// The `Record` parameter; nil when the call did not say.
    public var record: Bool?
    /// The `RecordingChannels` parameter; nil when the call did not say.
    public var channels: RequestedChannels?

    public init(flow: String, outcome: String, record: Bool? = nil, channels: RequestedChannels? = nil) {
        self.flow = flow
        self.outcome = outcome
        self.record = record
        self.channels = channels
    }
}

/// The settings one call is recorded with.
public struct EffectiveSettings: Sendable, Equatable {
    public let enabled: Decided<Bool>
    public let mode: Decided<RecordingMode>
    public let format: Decided<AudioFormat>
    public let retentionDays: Decided<Int>
    public let mp3BitrateKbps: Int
    public let startPoint: StartPoint
    public let beep: Bool
    public let pauses: PauseHandling
    public let timeZone: String
    public let region: Region
    /// What was asked for but not given, and why ("dual-channel requested by the call, …").
    public let downgrades: [String]

    /// The effective settings and their reasons as a JSON object (catalogued with the call).
    public var json: JSONValue {
        func decided(_ value: JSONValue, _ layer: SettingLayer, _ reason: String) -> JSONValue {
            .object([("value", value), ("layer", .string(layer.rawValue)), ("reason", .string(reason))])
        }
        return .object([
            ("enabled", decided(.bool(enabled.value), enabled.layer, enabled.reason)),
            ("mode", decided(.string(mode.value.rawValue), mode.layer, mode.reason)),
            ("format", decided(.string(format.value.rawValue), format.layer, format.reason)),
            ("retentionDays", decided(.int(retentionDays.value), retentionDays.layer, retentionDays.reason)),
            ("mp3BitrateKbps", .int(mp3BitrateKbps)),
            ("startPoint", .string(startPoint.rawValue)),
            ("beep", .bool(beep)),
            ("pauses", .string(pauses.rawValue)),
            ("timeZone", .string(timeZone)),
            ("region", .string(region.rawValue)),
            ("downgrades", .array(downgrades.map(JSONValue.string))),
        ])
    }
}

/// Resolves effective settings. Precedence: call > flow override > account; the plan gates last.
public enum SettingsResolver {
    public static func resolve(_ settings: RecordingSettings, plan: Plan, call: CallRecordingRequest) -> EffectiveSettings {
        let account = settings.account
        let flow = settings.flows[call.flow].flatMap { $0.override ? $0 : nil }
        var downgrades: [String] = []

        let enabled: Decided<Bool>
        if let record = call.record {
            enabled = Decided(record, .call, "the call's Record parameter is \(record)")
        } else if let e = flow?.enabled {
            enabled = Decided(e, .flow, "flow \(call.flow) overrides the account: recording \(e ? "enabled" : "disabled")")
        } else {
            enabled = Decided(account.enabled, .account, "account setting: recording \(account.enabled ? "enabled" : "disabled")")
        }

        var mode: Decided<RecordingMode>
        if let channels = call.channels {
            mode = Decided(channels.mode, .call, "the call's RecordingChannels parameter is \(channels.rawValue)")
        } else if let m = flow?.mode {
            mode = Decided(m, .flow, "flow \(call.flow) overrides the account: \(m.rawValue)-channel")
        } else {
            mode = Decided(account.mode, .account, "account setting: \(account.mode.rawValue)-channel")
        }
        if mode.value == .dual && !plan.allowsDualChannel {
            let asker = mode.layer == .call ? "the call" : mode.layer == .flow ? "flow \(call.flow)" : "the account"
            let why = "dual-channel requested by \(asker), but dual-channel recording is available on the Growth and Enterprise plans only (this account is on \(plan.displayName)): recorded single-channel"
            downgrades.append(why)
            mode = Decided(.single, .plan, why)
        }

        let format: Decided<AudioFormat>
        if mode.value == .dual {
            format = Decided(.wav, mode.layer, "dual-channel recordings are stereo WAV")
        } else {
            format = Decided(account.format, .account, "account setting: \(account.format.rawValue)")
        }

        return EffectiveSettings(
            enabled: enabled, mode: mode, format: format,
            retentionDays: RetentionPolicy.days(settings, plan: plan, flow: call.flow, outcome: call.outcome),
            mp3BitrateKbps: account.mp3BitrateKbps, startPoint: account.startPoint, beep: account.beep,
            pauses: account.pauses, timeZone: account.timeZone, region: account.region, downgrades: downgrades)
    }
}

/// How long a call's recording is kept.
public enum RetentionPolicy {
    /// The account's retention, unless selective rules (Enterprise) match the call's flow or
    /// outcome: then the longest matching rule wins.
    public static func days(_ settings: RecordingSettings, plan: Plan, flow: String, outcome: String) -> Decided<Int> {
        let base = settings.account.retentionDays
        let matching = settings.retention.rules.filter { rule in
            switch rule.criterion {
            case .flow(let f): return f == flow
            case .outcome(let o): return o == outcome
            }
        }
        guard !matching.isEmpty else {
            return Decided(base, .account, "account retention: \(base) days")
        }
        guard plan.allowsSelectiveRetention else {
            return Decided(base, .account, "account retention: \(base) days (selective rules apply on Enterprise only; this account is on \(plan.displayName))")
        }
        let best = matching.max { $0.days < $1.days }!
        let names = matching.map { rule -> String in
            switch rule.criterion {
            case .flow(let f): return "flow \(f) \(rule.days) d"
            case .outcome(let o): return "outcome \(o) \(rule.days) d"
            }
        }
        let reason = matching.count == 1
            ? "retention rule \(names[0])"
            : "longest of the matching retention rules (\(names.joined(separator: ", ")))"
        return Decided(best.days, .retentionRule, reason + ": \(best.days) days")
    }
}
