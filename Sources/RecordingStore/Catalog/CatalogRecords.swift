// CatalogRecords: the rows of the catalog, as plain structs. Times are milliseconds since
// the Unix epoch (UTC).

import Foundation
import GRDB

/// An account: its sid and plan.
public struct AccountRow: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "account"
    public var sid: String
    public var plan: String
    public var createdAt: Int64
}

/// One version of an account's settings (the full document, secrets included).
public struct SettingsRow: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "settings"
    public var accountSid: String
    public var version: Int
    public var document: String
    public var author: String
    public var createdAt: Int64
}

/// A call flow recordings have been made in.
public struct FlowRow: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "flow"
    public var accountSid: String
    public var name: String
    public var createdAt: Int64
    /// Stable number given by the catalog on insert.
    public var number: Int64? = nil
}

/// A finished call, whether or not it produced a recording.
public struct CallRow: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "call"
    public var sid: String
    public var accountSid: String
    public var flow: String
    public var direction: String
    public var fromNumber: String
    public var toNumber: String
    public var callerId: String?
    public var outcome: String
    public var startedAt: Int64
    public var answeredAt: Int64?
    public var connectedAt: Int64?
    public var endedAt: Int64
    public var recordParameter: Bool?
    public var channelsParameter: String?
    /// The effective settings with the layer and reason of each field (JSON).
    public var effectiveSettings: String
    public var recordingId: String?
    /// Why there is no recording, in one sentence; nil when there is one.
    public var noRecordingReason: String?
    /// SHA-256 of the delivered inputs, to recognise an identical re-delivery.
    public var inputSha256: String
    public var ingestedAt: Int64
}

/// A stored, encrypted recording and everything needed to find, size and decrypt it.
public struct RecordingRow: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "recording"
    public var id: String
    public var callSid: String
    public var accountSid: String
    public var flow: String
    public var outcome: String
    /// The call's start: the recording's date folder and mtime.
    public var callStartedAt: Int64
    /// The instant the audio starts (answer or connect).
    public var recordedFrom: Int64
    public var durationMs: Int64
    public var mode: String
    public var format: String
    public var channels: Int
    /// JSON array naming each channel, left first: `["agent","customer"]` or `["mixed"]`.
    public var channelMap: String
    public var sampleRate: Int
    public var bitsPerSample: Int
    public var plaintextSize: Int64
    public var sha256: String
    public var region: String
    /// Which blob store holds it (`local`), and under what key.
    public var blobStore: String
    public var blobKey: String
    public var chunkSize: Int
    /// The data key wrapped by account key `keyId` (the same bytes as in the blob header).
    public var wrappedKey: Data
    public var keyId: String
    public var createdAt: Int64
    public var expiresAt: Int64
    public var purgedAt: Int64?
    /// Stable number given by the catalog on insert (the mount's inode numbers derive from it).
    public var number: Int64? = nil
    /// When call.json last changed after ingest: a retention change moved `expiresAt`, or a key
    /// rotation rewrapped the data key (nil: never). Renamed from expiryChangedAt by catalog v5.
    public var documentChangedAt: Int64? = nil
    /// The size of the mount's `call.json` (nil: ingested before catalog v4; built on demand).
    public var documentSize: Int64? = nil

    /// The file name of the recording in the mount (`recording.wav`).
    public var fileName: String { "recording.\(format)" }
}

/// An audit event. The table refuses updates and deletes.
public struct AuditRow: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "audit"
    public var id: Int64?
    public var at: Int64
    public var actor: String
    public var action: String
    public var subject: String
    public var detail: String

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
