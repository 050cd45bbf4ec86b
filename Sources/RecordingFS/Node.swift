// Node: what an inode number stands for. Numbers derive from the catalog's stable numbers,
// so they are the same after every remount and need no table in memory.

/// A file or folder of the mount.
public enum Node: Hashable, Sendable {
    case root
    /// `DATE/`: a local date, as days since 1970-01-01.
    case day(Int64)
    /// `DATE/FLOW/`: the flow's stable number within a date.
    case flow(day: Int64, flow: Int64)
    /// `DATE/FLOW/CALLSID/`: the recording's stable number.
    case call(Int64)
    /// A file in a call folder.
    case file(Int64, CallFile)
    /// `.settings/` and what is in it.
    case settings(SettingsNode)

    static let rootInode: UInt64 = 1
    static let tagShift: UInt64 = 56
    static let payloadMask: UInt64 = (1 << 56) - 1

    /// The inode number.
    public var inode: UInt64 {
        switch self {
        case .root: return Node.rootInode
        case .day(let d): return 1 << Node.tagShift | UInt64(bitPattern: d) & 0xFFFF_FFFF
        case .flow(let d, let f): return 2 << Node.tagShift | (UInt64(bitPattern: d) & 0xFFFF_FFFF) << 24 | UInt64(f) & 0xFF_FFFF
        case .call(let n): return 3 << Node.tagShift | UInt64(n) & Node.payloadMask
        case .file(let n, let kind): return (4 + kind.rawValue) << Node.tagShift | UInt64(n) & Node.payloadMask
        case .settings(let s): return s.inode
        }
    }

    /// The node an inode number stands for, or nil for numbers the mount never gave out.
    public init?(inode: UInt64) {
        let payload = inode & Node.payloadMask
        switch inode >> Node.tagShift {
        case 0 where inode == Node.rootInode: self = .root
        case 1: self = .day(Int64(Int32(truncatingIfNeeded: payload)))
        case 2: self = .flow(day: Int64(Int32(truncatingIfNeeded: payload >> 24)), flow: Int64(payload & 0xFF_FFFF))
        case 3: self = .call(Int64(payload))
        case 4...7: self = .file(Int64(payload), CallFile(rawValue: (inode >> Node.tagShift) - 4)!)
        case 8...10:
            guard let s = SettingsNode(tag: inode >> Node.tagShift, payload: payload) else { return nil }
            self = .settings(s)
        default: return nil
        }
    }

    public var isDirectory: Bool {
        switch self {
        case .file: return false
        case .settings(let s): return s.isDirectory
        default: return true
        }
    }
}

/// The files of a call folder.
public enum CallFile: UInt64, CaseIterable, Sendable {
    /// `recording.mp3` or `recording.wav`: the decrypted recording.
    case recording = 0
    /// `agent.wav`: the left channel of a dual-channel recording, as a mono WAV.
    case agent = 1
    /// `customer.wav`: the right channel, as a mono WAV.
    case customer = 2
    /// `call.json`: the call, its recording and where and how long it is kept.
    case callJSON = 3
}

/// A node of `.settings/`. Fixed nodes have fixed numbers; flow files and scratch files get
/// numbers for the daemon's lifetime (nothing outside the mount keeps them).
public enum SettingsNode: Hashable, Sendable {
    /// `.settings/`
    case folder
    /// `.settings/flows/`
    case flowsFolder
    /// `account.json`, `retention.json`, `access.json`, `storage.json`.
    case fixed(Int)
    /// `.settings/.last-error`: the caller's last refused edit.
    case lastError
    /// `flows/FLOW.json`, by the number the daemon gave the flow's name.
    case flowFile(Int64)
    /// A scratch file (an editor's swap file, `sed -i`'s temporary), held in memory.
    case scratch(Int64)

    static let fixedTag: UInt64 = 8
    static let flowTag: UInt64 = 9
    static let scratchTag: UInt64 = 10

    var inode: UInt64 {
        switch self {
        case .folder: return SettingsNode.fixedTag << Node.tagShift
        case .flowsFolder: return SettingsNode.fixedTag << Node.tagShift | 1
        case .lastError: return SettingsNode.fixedTag << Node.tagShift | 2
        case .fixed(let i): return SettingsNode.fixedTag << Node.tagShift | UInt64(16 + i)
        case .flowFile(let n): return SettingsNode.flowTag << Node.tagShift | UInt64(n) & Node.payloadMask
        case .scratch(let n): return SettingsNode.scratchTag << Node.tagShift | UInt64(n) & Node.payloadMask
        }
    }

    init?(tag: UInt64, payload: UInt64) {
        switch (tag, payload) {
        case (SettingsNode.fixedTag, 0): self = .folder
        case (SettingsNode.fixedTag, 1): self = .flowsFolder
        case (SettingsNode.fixedTag, 2): self = .lastError
        case (SettingsNode.fixedTag, 16..<20): self = .fixed(Int(payload - 16))
        case (SettingsNode.flowTag, _): self = .flowFile(Int64(payload))
        case (SettingsNode.scratchTag, _): self = .scratch(Int64(payload))
        default: return nil
        }
    }

    var isDirectory: Bool { self == .folder || self == .flowsFolder }
}
