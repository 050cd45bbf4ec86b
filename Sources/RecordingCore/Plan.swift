// Plan: the three commercial plans and what each allows, straight from the seed's tables.

/// A commercial plan. Plans gate dual-channel recording, retention ranges, selective
/// retention, custom storage and single-recording deletion.
public enum Plan: String, CaseIterable, Sendable, Codable {
    case starter, growth, enterprise

    /// The plan's name as people write it ("Starter").
    public var displayName: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }

    /// Retention given to a new account on this plan, in days.
    public var defaultRetentionDays: Int {
        switch self {
        case .starter: return 30
        case .growth: return 90
        case .enterprise: return 365
        }
    }

    /// The retention an account on this plan may choose, in days.
    public var retentionRange: ClosedRange<Int> {
        switch self {
        case .starter: return 7...90
        case .growth: return 7...180
        case .enterprise: return 7...3650
        }
    }

    /// Dual-channel (stereo, one party per channel) recording: Growth and Enterprise.
    public var allowsDualChannel: Bool { self != .starter }

    /// Retention rules by flow and outcome: Enterprise only.
    public var allowsSelectiveRetention: Bool { self == .enterprise }

    /// Recordings delivered to the customer's own S3, Azure or SFTP: Enterprise only.
    public var allowsCustomStorage: Bool { self == .enterprise }

    /// Deleting a single recording on request (right to erasure): Enterprise only.
    public var allowsRecordingDeletion: Bool { self == .enterprise }

    /// The plan's limits as a read-only JSON object shown beside the settings.
    public var limitsJSON: JSONValue {
        .object([
            ("plan", .string(rawValue)),
            ("retentionDays", .object([
                ("default", .int(defaultRetentionDays)),
                ("min", .int(retentionRange.lowerBound)),
                ("max", .int(retentionRange.upperBound)),
            ])),
            ("dualChannel", .bool(allowsDualChannel)),
            ("selectiveRetention", .bool(allowsSelectiveRetention)),
            ("customStorage", .bool(allowsCustomStorage)),
            ("recordingDeletion", .bool(allowsRecordingDeletion)),
        ])
    }
}

/// Where an account's recordings live by default (data residency).
public enum Region: String, CaseIterable, Sendable, Codable {
    /// AWS Mumbai, India.
    case apSouth1 = "ap-south-1"
    /// AWS Singapore.
    case apSoutheast1 = "ap-southeast-1"
}
