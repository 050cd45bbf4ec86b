// RecordedSpan: which samples of the legs a recording keeps: from answer or connect, up to the
// call's end or the caller's opt-out, with paused spans silenced or skipped. Pure arithmetic.

import RecordingCore

/// The part of a call a recording keeps, in samples of the legs (0 = answeredAt).
public struct RecordedSpan: Sendable, Equatable {
    /// A stretch of the recording: leg samples `range`, kept as audio or replaced by silence.
    public struct Piece: Sendable, Equatable {
        public let range: Range<Int>
        public let paused: Bool
    }

    public let sampleRate: Int
    /// Where recording starts and why (`answer`, or `connect` after the IVR).
    public let start: Timestamp
    public let startReason: String
    /// Where recording ends and why (the call's end, or the caller's opt-out).
    public let end: Timestamp
    public let endReason: String
    /// The pieces in order; paused pieces are absent when pauses are skipped.
    public let pieces: [Piece]
    /// Milliseconds of pauses inside the span, and whether they were skipped.
    public let pausedMilliseconds: Int64
    public let pausesSkipped: Bool

    /// Samples in the recording.
    public var sampleCount: Int { pieces.reduce(0) { $0 + $1.range.count } }
    /// The recording's length in milliseconds.
    public var durationMilliseconds: Int64 { Int64(sampleCount) * 1000 / Int64(sampleRate) }

    /// The span of `call` that `settings` ask for. The call must have been answered.
    public init(call: CallDescription, settings: EffectiveSettings, sampleRate: Int) {
        let answered = call.answeredAt ?? call.startedAt
        func offset(_ t: Timestamp) -> Int {
            let ms = max(0, t.milliseconds - answered.milliseconds)
            return Int((ms * Int64(sampleRate) + 500) / 1000)
        }
        var start = answered, startReason = "start point answer: recorded from the answer at \(answered)"
        if settings.startPoint == .connect {
            if let connected = call.connectedAt {
                start = connected
                startReason = "start point connect: recorded from the agent's connection at \(connected); the IVR before it is left out"
            } else {
                startReason = "start point connect, but the call has no connectedAt (no IVR): recorded from the answer at \(answered)"
            }
        }
        var end = call.endedAt, endReason = "recorded until the call ended at \(call.endedAt)"
        if let optOut = call.optOutAt, optOut < end {
            end = max(optOut, start)
            endReason = "the caller opted out at \(optOut): nothing after it is kept"
        }
        let first = offset(start), last = max(offset(start), offset(end))
        var pieces: [Piece] = []
        var cursor = first
        var pausedSamples = 0
        for pause in call.pauses {
            let a = min(max(offset(pause.from), cursor), last), b = min(max(offset(pause.to), a), last)
            guard b > a else { continue }
            if a > cursor { pieces.append(Piece(range: cursor..<a, paused: false)) }
            if settings.pauses == .silence { pieces.append(Piece(range: a..<b, paused: true)) }
            pausedSamples += b - a
            cursor = b
        }
        if last > cursor { pieces.append(Piece(range: cursor..<last, paused: false)) }
        self.sampleRate = sampleRate
        self.start = start
        self.startReason = startReason
        self.end = end
        self.endReason = endReason
        self.pieces = pieces
        self.pausedMilliseconds = Int64(pausedSamples) * 1000 / Int64(sampleRate)
        self.pausesSkipped = settings.pauses == .skip
    }
}
