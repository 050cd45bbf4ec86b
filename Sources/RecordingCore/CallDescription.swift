// CallDescription: a finished call as delivered to `recfs ingest` (the call JSON), checked.

/// A finished call: parties, times, outcome, per-call recording parameters and its audio.
public struct CallDescription: Equatable, Sendable {
    public enum Direction: String, CaseIterable, Sendable { case inbound, outbound }

    /// A span during which recording was paused.
    public struct Pause: Equatable, Sendable {
        public let from: Timestamp
        public let to: Timestamp

        public init(from: Timestamp, to: Timestamp) {
            self.from = from
            self.to = to
        }
    }

    public var account: String
    public var callSid: String
    public var flow: String
    public var from: String
    public var to: String
    public var callerId: String?
    public var direction: Direction
    public var outcome: String
    public var startedAt: Timestamp
    /// Nil when the call was never answered.
    public var answeredAt: Timestamp?
    public var connectedAt: Timestamp?
    public var endedAt: Timestamp
    public var record: Bool?
    public var recordingChannels: RequestedChannels?
    public var optOutAt: Timestamp?
    public var pauses: [Pause]
    /// Leg paths (relative to the call JSON): the agent's and the customer's audio, mono
    /// 16-bit PCM WAV at one rate, both starting at `answeredAt`. Required for answered calls.
    public var agentLeg: String?
    public var customerLeg: String?

    static let fields = ["account", "callSid", "flow", "from", "to", "callerId", "direction", "outcome",
                         "startedAt", "answeredAt", "connectedAt", "endedAt", "record", "recordingChannels",
                         "optOutAt", "pauses", "legs", "recording"]

    public init(account: String, callSid: String, flow: String, from: String, to: String, callerId: String?,
                direction: Direction, outcome: String, startedAt: Timestamp, answeredAt: Timestamp?,
                connectedAt: Timestamp?, endedAt: Timestamp, record: Bool?, recordingChannels: RequestedChannels?,
                optOutAt: Timestamp?, pauses: [Pause], agentLeg: String?, customerLeg: String?) {
        self.account = account
        self.callSid = callSid
        self.flow = flow
        self.from = from
        self.to = to
        self.callerId = callerId
        self.direction = direction
        self.outcome = outcome
        self.startedAt = startedAt
        self.answeredAt = answeredAt
        self.connectedAt = connectedAt
        self.endedAt = endedAt
        self.record = record
        self.recordingChannels = recordingChannels
        self.optOutAt = optOutAt
        self.pauses = pauses
        self.agentLeg = agentLeg
        self.customerLeg = customerLeg
    }

    /// The per-call part of settings resolution.
    public var request: CallRecordingRequest {
        CallRecordingRequest(flow: flow, outcome: outcome, record: record, channels: recordingChannels)
    }

    /// Parses and checks a call JSON document, reporting every problem with its path.
    public static func decode(_ bytes: some Collection<UInt8>) throws(InvalidDocument) -> CallDescription {
        let doc: JSONValue
        do {
            doc = try JSONValue.parse(bytes)
        } catch {
            throw InvalidDocument([SettingsViolation(path: "", reason: error.description)], what: "call")
        }
        let log = ViolationLog()
        guard let r = FieldReader(doc, path: "", allowed: fields, log: log) else { throw InvalidDocument(log.violations, what: "call") }

        func required(_ key: String) -> String? { r.requiredString(key) }
        func time(_ key: String, required: Bool) -> Timestamp? {
            guard let v = r.value(key), v != .null else {
                if required { log.add(key, "required") }
                return nil
            }
            guard case let .string(s) = v else { log.add(key, "expected an RFC 3339 time string, got \(v.typeName)"); return nil }
            guard let t = Timestamp(rfc3339: s) else { log.add(key, "\"\(s)\" is not an RFC 3339 time such as 2026-11-24T10:00:04Z"); return nil }
            return t
        }

        let account = required("account"), sid = required("callSid"), flow = required("flow")
        let from = required("from"), to = required("to"), outcome = required("outcome")
        let callerId = r.value("callerId") == .null ? nil : r.string("callerId")
        let direction = r.choice("direction", Direction.self)
        if !r.has("direction") { log.add("direction", "required (inbound or outbound)") }
        if let a = account, let p = Names.accountSidProblem(a) { log.add("account", p) }
        if let s = sid, let p = Names.callSidProblem(s) { log.add("callSid", p) }
        if let f = flow, let p = Names.flowProblem(f) { log.add("flow", p) }
        if let o = outcome, let p = Names.outcomeProblem(o) { log.add("outcome", p) }
        for (key, value) in [("from", from), ("to", to)] where value?.isEmpty == true { log.add(key, "must not be empty") }

        let started = time("startedAt", required: true), answered = time("answeredAt", required: false)
        let connected = time("connectedAt", required: false), ended = time("endedAt", required: true)
        let optOut = time("optOutAt", required: false)
        if let s = started, let e = ended, e < s { log.add("endedAt", "is before startedAt") }
        if let s = started, let a = answered, a < s { log.add("answeredAt", "is before startedAt") }
        if let a = answered, let e = ended, e < a { log.add("endedAt", "is before answeredAt") }
        if let c = connected {
            if answered == nil { log.add("connectedAt", "is set but the call was never answered") }
            if let a = answered, c < a { log.add("connectedAt", "is before answeredAt") }
            if let e = ended, e < c { log.add("connectedAt", "is after endedAt") }
        }
        if let o = optOut {
            if answered == nil { log.add("optOutAt", "is set but the call was never answered") }
            if let a = answered, o < a { log.add("optOutAt", "is before answeredAt") }
            if let e = ended, e < o { log.add("optOutAt", "is after endedAt") }
        }

        var pauses: [Pause] = []
        if let items = r.array("pauses") {
            for (i, item) in items.enumerated() {
                let path = "pauses[\(i)]"
                guard let pr = FieldReader(item, path: path, allowed: ["from", "to"], log: log) else { continue }
                let f = pr.requiredString("from").flatMap(Timestamp.init(rfc3339:))
                let t = pr.requiredString("to").flatMap(Timestamp.init(rfc3339:))
                guard let f, let t else {
                    if pr.has("from") && pr.has("to") { log.add(path, "from and to must be RFC 3339 times") }
                    continue
                }
                if t <= f { log.add(path, "to must be after from") }
                if let a = answered, f < a { log.add("\(path).from", "is before answeredAt") }
                if let e = ended, e < t { log.add("\(path).to", "is after endedAt") }
                if let last = pauses.last, f < last.to { log.add(path, "overlaps the pause before it (pauses must be in order)") }
                pauses.append(Pause(from: f, to: t))
            }
        }

        var agent: String?, customer: String?
        if let legs = r.value("legs"), legs != .null, let lr = FieldReader(legs, path: "legs", allowed: ["agent", "customer"], log: log) {
            agent = lr.requiredString("agent")
            customer = lr.requiredString("customer")
            for (key, p) in [("agent", agent), ("customer", customer)] {
                if let p, let problem = relativePathProblem(p) { log.add("legs.\(key)", problem) }
            }
        }
        let hasLegs = r.value("legs").map { $0 != .null } ?? false
        let answeredGiven = r.value("answeredAt").map { $0 != .null } ?? false
        if answered != nil && !hasLegs {
            log.add("legs", "required for an answered call: {\"agent\": \"….wav\", \"customer\": \"….wav\"}, relative to the call JSON")
        }
        if !answeredGiven && hasLegs {
            log.add("legs", "are given but the call was never answered (legs start at answeredAt)")
        }
        if r.has("recording") {
            log.add("recording", "is not accepted: the recording engine makes the recording from the legs")
        }

        let record = r.value("record") == .null ? nil : r.bool("record")
        let channels = r.value("recordingChannels") == .null ? nil : r.choice("recordingChannels", RequestedChannels.self)

        guard log.violations.isEmpty, let account, let sid, let flow, let from, let to, let outcome,
              let direction, let started, let ended else {
            throw InvalidDocument(log.violations, what: "call")
        }
        return CallDescription(
            account: account, callSid: sid, flow: flow, from: from, to: to, callerId: callerId,
            direction: direction, outcome: outcome, startedAt: started, answeredAt: answered,
            connectedAt: connected, endedAt: ended, record: record, recordingChannels: channels,
            optOutAt: optOut, pauses: pauses, agentLeg: agent, customerLeg: customer)
    }

    static func relativePathProblem(_ p: String) -> String? {
        if p.isEmpty { return "must not be empty" }
        if p.hasPrefix("/") { return "\"\(p)\" must be relative to the call JSON file" }
        if p.split(separator: "/").contains("..") { return "\"\(p)\" must not leave the call's folder ('..')" }
        return nil
    }
}
