// TestSupport: temporary folders, fixture paths and a seeded random generator for store tests.

import Foundation
import RecordingCore
@testable import RecordingStore

/// A temporary folder removed when the value is dropped.
final class TemporaryFolder {
    let path: String

    init() {
        var template = Array((NSTemporaryDirectory() + "/recfs-test-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(cString: template)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The repository's fixtures folder.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures").path

/// SplitMix64: a small deterministic generator, so property tests repeat exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A key provider holding keys in memory, for vault tests that need no store.
final class MemoryKeys: KeyProvider, @unchecked Sendable {
    var keys: [(String, [UInt8])] = [("k-test-1", SecureRandom.bytes(32))]
    func activeKeyId() throws -> String { keys[0].0 }
    func key(id: String) throws -> [UInt8] {
        guard let k = keys.first(where: { $0.0 == id }) else { throw KeyError(reason: "no key \(id)") }
        return k.1
    }
    func addActiveKey() throws -> String {
        let id = "k-test-\(keys.count + 1)"
        keys.insert((id, SecureRandom.bytes(32)), at: 0)
        return id
    }
    func retire(_ ids: Set<String>) throws {
        let active = keys[0].0
        keys.removeAll { ids.contains($0.0) && $0.0 != active }
    }
    func keyIds() throws -> [String] { keys.map(\.0) }
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func readFile(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Stands in for the recording engine, which sits above the store: a fixture call file becomes a
/// `CallRecord` whose "recording" is the agent leg's WAV file (the store never looks inside
/// audio), or none for unanswered calls, disabled recording and legs under 2 s. The engine's
/// own tests cover what real recordings hold.
func ingest(_ store: Store, _ file: String, actor: String = "test") throws -> IngestResult {
    let json = try readFile(file)
    let call = try CallDescription.decode(json)
    let effective = try store.effectiveSettings(for: call)
    let hasher = SHA256Hasher()
    hasher.update(json)
    let digest = hasher.finalizeHex()
    if let previous = try store.previousIngest(of: call.callSid, inputDigest: digest) { return previous }
    var recording: RenderedRecording?, reason: String?
    if call.answeredAt == nil {
        reason = "the call was not answered"
    } else if !effective.enabled.value {
        reason = "recording is disabled: \(effective.enabled.reason)"
    } else {
        let bytes = try standInRecording(file)
        let info = try AudioProbe.probe(bytes, fileSize: bytes.count)
        if info.durationMilliseconds < Store.minimumRecordingMilliseconds {
            reason = "the recorded audio lasts \(info.durationMilliseconds) ms, under the 2 s minimum"
        } else {
            recording = RenderedRecording(bytes: bytes, format: .wav, mode: .single, channels: 1, channelMap: ["mixed"],
                                          sampleRate: info.sampleRate, bitsPerSample: 16, durationMilliseconds: info.durationMilliseconds,
                                          recordedFrom: call.answeredAt!)
        }
    }
    let decision = JSONValue.object([("settings", effective.json)])
    return try store.record(CallRecord(call: call, inputDigest: digest, effective: effective, decision: decision,
                                       recording: recording, noRecordingReason: reason), actor: actor)
}

/// The bytes `ingest(_:_:)` stores for an answered call: its agent leg.
func standInRecording(_ file: String) throws -> [UInt8] {
    let call = try CallDescription.decode(try readFile(file))
    let dir = (file as NSString).deletingLastPathComponent
    return try readFile(dir + "/" + (call.agentLeg ?? "missing-leg"))
}

/// Lines appended from several threads, in the order they came.
final class Events: @unchecked Sendable {
    private var items: [String] = []
    private let lock = NSLock()
    func add(_ s: String) { lock.withLock { items.append(s) } }
    var list: [String] { lock.withLock { items } }
}
