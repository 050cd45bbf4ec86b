// Settings: the account, flow, retention, access and storage settings as typed values.

/// Single-channel (both parties mixed) or dual-channel (stereo, agent left, customer right).
public enum RecordingMode: String, CaseIterable, Sendable, Codable {
    case single, dual
}

/// The container of a recording. Dual-channel recordings are always WAV.
public enum AudioFormat: String, CaseIterable, Sendable, Codable {
    case mp3, wav
    /// File name extension.
    public var fileExtension: String { rawValue }
}

/// Where recording starts: when the call is answered, or when the agent is connected (after IVR).
public enum StartPoint: String, CaseIterable, Sendable, Codable {
    case answer, connect
}

/// What paused spans become: silence of the same length, or nothing (skipped).
public enum PauseHandling: String, CaseIterable, Sendable, Codable {
    case silence, skip
}

/// Account-level recording settings (the seed's "Account-Level Settings" table).
public struct AccountSettings: Equatable, Sendable {
    public var enabled: Bool
    public var mode: RecordingMode
    public var format: AudioFormat
    public var mp3BitrateKbps: Int
    public var retentionDays: Int
    public var startPoint: StartPoint
    public var beep: Bool
    /// IANA time zone of the mount's date folders.
    public var timeZone: String
    public var region: Region
    public var pauses: PauseHandling

    /// Bitrates libmp3lame accepts for MPEG-1 Layer III.
    public static let mp3Bitrates = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]

    /// The settings of a new account on `plan` in `region`: the seed's defaults.
    public static func defaults(plan: Plan, region: Region) -> AccountSettings {
        AccountSettings(
            enabled: true, mode: .single, format: .mp3, mp3BitrateKbps: 128,
            retentionDays: plan.defaultRetentionDays, startPoint: .answer, beep: false,
            timeZone: "Asia/Kolkata", region: region, pauses: .silence)
    }
}

/// A call flow's override of the account settings (the seed's "Per-Flow Recording" table).
/// Fields left nil inherit from the account.
public struct FlowOverride: Equatable, Sendable {
    /// When false the override is kept but ignored: the flow follows the account.
    public var override: Bool
    public var enabled: Bool?
    public var mode: RecordingMode?

    public init(override: Bool = true, enabled: Bool? = nil, mode: RecordingMode? = nil) {
        self.override = override
        self.enabled = enabled
        self.mode = mode
    }
}

/// One selective-retention rule (Enterprise): calls of a flow, or with an outcome, are kept `days`.
public struct RetentionRule: Equatable, Sendable {
    public enum Criterion: Equatable, Sendable {
        case flow(String)
        case outcome(String)
    }
    public var criterion: Criterion
    public var days: Int

    public init(_ criterion: Criterion, days: Int) {
        self.criterion = criterion
        self.days = days
    }
}

/// Selective retention rules. Where several match a call, the longest wins.
public struct RetentionSettings: Equatable, Sendable {
    public var rules: [RetentionRule]
    public init(rules: [RetentionRule] = []) { self.rules = rules }
}

/// The complete settings of an account: what `recfs settings show` prints and `set` applies.
public struct RecordingSettings: Equatable, Sendable {
    public var account: AccountSettings
    /// Flow overrides by flow name, kept sorted by name.
    public var flows: [String: FlowOverride]
    public var retention: RetentionSettings
    public var access: AccessSettings
    public var storage: StorageSettings

    public init(account: AccountSettings, flows: [String: FlowOverride] = [:],
                retention: RetentionSettings = .init(), access: AccessSettings,
                storage: StorageSettings = .default) {
        self.account = account
        self.flows = flows
        self.retention = retention
        self.access = access
        self.storage = storage
    }

    /// The settings of a new account.
    public static func defaults(plan: Plan, region: Region) -> RecordingSettings {
        RecordingSettings(account: .defaults(plan: plan, region: region), access: .defaults(plan: plan))
    }
}
