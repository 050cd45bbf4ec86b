// RecordingEngine: a finished call's legs in, the recording its effective settings ask for out
// (mixed or stereo, trimmed, beeped, WAV or MP3), or the reason there is none.

import CLame
import RecordingCore
import RecordingStore

/// Both parties' audio of one call, at one sample rate.
public struct CallLegs: Sendable, Equatable {
    public let agent: LegAudio
    public let customer: LegAudio

    /// Pairs two legs; they must share a sample rate.
    public init(agent: LegAudio, customer: LegAudio) throws(InvalidDocument) {
        guard agent.sampleRate == customer.sampleRate else {
            throw InvalidDocument([SettingsViolation(path: "legs", reason: "the agent leg is \(agent.sampleRate) Hz and the customer leg \(customer.sampleRate) Hz; both legs must have the same rate")], what: "call")
        }
        self.agent = agent
        self.customer = customer
    }

    public var sampleRate: Int { agent.sampleRate }
}

/// What the engine decided for one call: the recording, or why there is none, and the
/// decision to catalogue (effective settings with reasons, what was made, leg quality).
public struct EngineDecision: Sendable {
    public let recording: RenderedRecording?
    public let noRecordingReason: String?
    public let decision: JSONValue
}

/// The recording engine.
public enum RecordingEngine {
    /// The libmp3lame version linked in.
    public static var lameVersion: String { String(cString: get_lame_version()) }

    /// Decides and renders the recording of `call` under `settings`. `legs` is nil only for
    /// calls that were never answered.
    public static func render(_ call: CallDescription, legs: CallLegs?, settings: EffectiveSettings) throws -> EngineDecision {
        var made: [(key: String, value: JSONValue)] = []
        func decided(_ recording: RenderedRecording?, _ reason: String?) -> EngineDecision {
            made.insert(("made", .bool(recording != nil)), at: 0)
            if let reason { made.insert(("reason", .string(reason)), at: 1) }
            guard case var .object(members) = settings.json else { preconditionFailure("effective settings are an object") }
            members.append(("recording", .object(made)))
            return EngineDecision(recording: recording, noRecordingReason: reason, decision: .object(members))
        }

        guard call.answeredAt != nil, let legs else {
            return decided(nil, "the call was not answered (outcome \(call.outcome)): there is no audio to record")
        }
        made.append(("legs", .object([
            ("agent", LegQuality(legs.agent).json), ("customer", LegQuality(legs.customer).json),
        ])))
        guard settings.enabled.value else {
            return decided(nil, "recording is disabled for this call by the \(settings.enabled.layer.rawValue) settings: \(settings.enabled.reason)")
        }

        let span = RecordedSpan(call: call, settings: settings, sampleRate: legs.sampleRate)
        made += [
            ("from", .string(span.start.description)), ("fromReason", .string(span.startReason)),
            ("to", .string(span.end.description)), ("toReason", .string(span.endReason)),
            ("pauses", .object([("handling", .string(settings.pauses.rawValue)), ("count", .int(call.pauses.count)),
                                ("pausedMs", .number(String(span.pausedMilliseconds)))])),
            ("beep", .bool(settings.beep)),
        ]
        let duration = span.durationMilliseconds
        guard duration >= Store.minimumRecordingMilliseconds else {
            var why = "the recorded audio lasts \(Double(duration) / 1000) s, under the 2 s minimum: very short calls are not kept"
            if call.optOutAt != nil && span.end < call.endedAt { why += " (the caller opted out at \(span.end))" }
            return decided(nil, why)
        }

        let recording: RenderedRecording
        if settings.mode.value == .dual {
            var pcm = Mixdown.stereo(agent: legs.agent, customer: legs.customer, span: span)
            if settings.beep { Beep.apply(to: &pcm) }
            recording = RenderedRecording(
                bytes: WAVEncoder.encode(pcm), format: .wav, mode: .dual, channels: 2, channelMap: ["agent", "customer"],
                sampleRate: pcm.sampleRate, bitsPerSample: 16, durationMilliseconds: duration, recordedFrom: span.start)
        } else {
            var pcm = Mixdown.mono(agent: legs.agent, customer: legs.customer, span: span)
            if settings.beep { Beep.apply(to: &pcm) }
            if settings.format.value == .mp3 {
                let bytes = try MP3Encoder.encode(pcm, bitrateKbps: settings.mp3BitrateKbps)
                made.append(("bitrateKbps", .int(settings.mp3BitrateKbps)))
                recording = RenderedRecording(
                    bytes: bytes, format: .mp3, mode: .single, channels: 1, channelMap: ["mixed"],
                    sampleRate: MP3Encoder.outputSampleRate(bitrateKbps: settings.mp3BitrateKbps), bitsPerSample: 0,
                    durationMilliseconds: duration, recordedFrom: span.start)
            } else {
                recording = RenderedRecording(
                    bytes: WAVEncoder.encode(pcm), format: .wav, mode: .single, channels: 1, channelMap: ["mixed"],
                    sampleRate: pcm.sampleRate, bitsPerSample: 16, durationMilliseconds: duration, recordedFrom: span.start)
            }
        }
        made += [
            ("mode", .string(recording.mode.rawValue)), ("format", .string(recording.format.rawValue)),
            ("channels", .int(recording.channels)),
            ("channelMap", .array(recording.channelMap.map(JSONValue.string))),
            ("sampleRate", .int(recording.sampleRate)), ("durationMs", .number(String(duration))),
            ("size", .number(String(recording.bytes.count))),
        ]
        return decided(recording, nil)
    }
}
