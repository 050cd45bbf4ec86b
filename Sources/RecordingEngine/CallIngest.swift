// CallIngest: `recfs ingest` and `recfs gen` share this path: check the call, recognise a
// re-delivery, resolve its settings, render it, and hand it to the store.

import RecordingCore
import RecordingStore

/// A finished call as delivered: the call JSON's bytes and the legs' WAV bytes.
public struct CallDelivery: Sendable {
    public let json: [UInt8]
    public let agentWAV: [UInt8]?
    public let customerWAV: [UInt8]?

    public init(json: [UInt8], agentWAV: [UInt8]?, customerWAV: [UInt8]?) {
        self.json = json
        self.agentWAV = agentWAV
        self.customerWAV = customerWAV
    }

    /// Reads the call JSON at `path` and the legs it names (relative to it). Missing or
    /// unreadable legs are refused with the field that names them.
    public static func read(callFile path: String) throws -> (CallDelivery, CallDescription) {
        let json = try Files.read(path, limit: 1 << 20)
        let call = try CallDescription.decode(json)
        let base = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        func leg(_ relative: String?, _ field: String) throws -> [UInt8]? {
            guard let relative else { return nil }
            let legPath = base + "/" + relative
            do {
                return try Files.read(legPath, limit: 1 << 31)
            } catch {
                throw InvalidDocument([SettingsViolation(path: field, reason: "cannot read \(legPath): \(error)")], what: "call")
            }
        }
        return (CallDelivery(json: json, agentWAV: try leg(call.agentLeg, "legs.agent"),
                             customerWAV: try leg(call.customerLeg, "legs.customer")), call)
    }

    /// SHA-256 over the call JSON and both legs: equal for an identical re-delivery only.
    public var digest: String {
        let whole = SHA256Hasher()
        for part in [json, agentWAV ?? [], customerWAV ?? []] {
            let h = SHA256Hasher()
            h.update(part)
            whole.update(Array(h.finalizeHex().utf8))
        }
        return whole.finalizeHex()
    }
}

extension RecordingEngine {
    /// Ingests the call JSON at `path` into `store`.
    public static func ingest(callFile path: String, into store: Store, actor: String) throws -> IngestResult {
        let (delivery, call) = try CallDelivery.read(callFile: path)
        return try ingest(delivery, call: call, into: store, actor: actor)
    }

    /// Ingests a delivered call whose JSON has been decoded into `call`. Bad input is refused
    /// before anything is stored; an identical re-delivery returns what is stored.
    public static func ingest(_ delivery: CallDelivery, call: CallDescription, into store: Store, actor: String) throws -> IngestResult {
        let effective = try store.effectiveSettings(for: call)
        let digest = delivery.digest
        if let previous = try store.previousIngest(of: call.callSid, inputDigest: digest) { return previous }
        var legs: CallLegs?
        if let agent = delivery.agentWAV, let customer = delivery.customerWAV {
            legs = try CallLegs(agent: try LegAudio.decode(wav: agent, field: "legs.agent"),
                                customer: try LegAudio.decode(wav: customer, field: "legs.customer"))
        }
        let decided = try render(call, legs: legs, settings: effective)
        return try store.record(CallRecord(call: call, inputDigest: digest, effective: effective, decision: decided.decision,
                                           recording: decided.recording, noRecordingReason: decided.noRecordingReason),
                                actor: actor)
    }
}
