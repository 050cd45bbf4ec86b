// AccessSettings: roles, members and the IP allow-list (enforced at open by the access rules).

/// What a role may do with recordings.
public enum RecordingAccess: String, CaseIterable, Sendable {
    case read, none
}

/// What a role may do with settings.
public enum SettingsAccess: String, CaseIterable, Sendable {
    case write, read, none
}

/// A named role: which flows' recordings it reads, and what it may do with settings.
public struct Role: Equatable, Sendable {
    public var recordings: RecordingAccess
    public var settings: SettingsAccess
    /// Flow names whose recordings the role sees; `*` means every flow.
    public var flows: [String]
    /// May delete single recordings (Enterprise right to erasure).
    public var deleteRecordings: Bool

    public init(recordings: RecordingAccess, settings: SettingsAccess, flows: [String] = ["*"], deleteRecordings: Bool = false) {
        self.recordings = recordings
        self.settings = settings
        self.flows = flows
        self.deleteRecordings = deleteRecordings
    }
}

/// A user (a Unix user name, or `uid:N`) and the role it holds.
public struct Member: Equatable, Sendable {
    public var user: String
    public var role: String
    public init(user: String, role: String) {
        self.user = user
        self.role = role
    }
}

/// Access rules: roles, members, IP allow-list and download-URL lifetime.
public struct AccessSettings: Equatable, Sendable {
    /// Roles by name, kept sorted by name.
    public var roles: [String: Role]
    public var members: [Member]
    /// Networks allowed to read recordings; empty means no IP restriction.
    public var ipAllowList: [CIDR]
    /// Lifetime of signed download URLs, in hours (the seed's default is 24).
    public var downloadUrlTtlHours: Int

    public static let downloadUrlTtlRange = 1...168

    /// A new account's access rules: root is admin; an analyst role reads every flow. Admins may
    /// delete single recordings where the plan allows it.
    public static func defaults(plan: Plan) -> AccessSettings {
        AccessSettings(
            roles: [
                "admin": Role(recordings: .read, settings: .write, flows: ["*"], deleteRecordings: plan.allowsRecordingDeletion),
                "analyst": Role(recordings: .read, settings: .read, flows: ["*"]),
            ],
            members: [Member(user: "root", role: "admin")],
            ipAllowList: [],
            downloadUrlTtlHours: 24)
    }
}
