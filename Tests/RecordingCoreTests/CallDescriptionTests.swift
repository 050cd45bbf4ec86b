// CallDescriptionTests: CallDescription.decode accepts every fixture call and refuses malformed ones, naming the field.

import Testing
@testable import RecordingCore

/// A call with every field present (manifest row 1).
private let fullCallSid = "CA5a4f7a5b568e5da8e66977530a6f9870"
/// A call that was never answered (manifest row 12).
private let unansweredCallSid = "CA3e7b624c46e59edacd117edd4f2ac646"

private func callViolations(_ doc: JSONValue) -> [SettingsViolation] {
    callViolations(doc.bytes)
}

private func callViolations(_ bytes: [UInt8]) -> [SettingsViolation] {
    do {
        _ = try CallDescription.decode(bytes)
        return []
    } catch {
        #expect(error.what == "call")
        return error.violations
    }
}

private func fullCall() throws -> JSONValue { try Fixtures.callJSON(fullCallSid) }

struct FixtureCallTests {
    @Test func manifestListsEveryFixtureCall() throws {
        #expect(ManifestRow.all.count == 13)
        #expect(ManifestRow.all.map(\.sid).sorted() == (try Fixtures.callSids()))
    }

    @Test(arguments: ManifestRow.all)
    func fixtureCallDecodesAsTheManifestSays(row: ManifestRow) throws {
        let call = try CallDescription.decode(try Fixtures.bytes("calls/\(row.sid).json"))
        #expect(call.callSid == row.sid)
        #expect(call.flow == row.flow)
        #expect(call.startedAt == Timestamp(rfc3339: row.startedAt))
        #expect(call.direction.rawValue == row.direction)
        #expect(call.outcome == row.outcome)
        #expect((call.answeredAt != nil) == (row.legs != nil))
        #expect(call.startedAt <= call.endedAt)
        switch row.requestedMode {
        case "dual": #expect(call.recordingChannels == .dual)
        case "single": #expect(call.recordingChannels == .single)
        case "(omitted)": #expect(call.recordingChannels == nil)
        case "record: false": #expect(call.record == false)
        default: Issue.record("unexpected requested mode \(row.requestedMode)")
        }
        if call.answeredAt == nil {
            #expect(call.agentLeg == nil && call.customerLeg == nil)
        } else {
            #expect(call.agentLeg == "legs/\(row.sid)-agent.wav")
            #expect(call.customerLeg == "legs/\(row.sid)-customer.wav")
        }
        #expect(call.request == CallRecordingRequest(flow: call.flow, outcome: call.outcome, record: call.record, channels: call.recordingChannels))
    }

    @Test func fullCallIsReadInFull() throws {
        let call = try CallDescription.decode(try fullCall().bytes)
        #expect(call.account == "ACdemo")
        #expect(call.from == "+919876543210")
        #expect(call.to == "+919845000001")
        #expect(call.callerId == "+914412345678")
        #expect(call.answeredAt == Timestamp(rfc3339: "2026-11-18T04:30:04Z"))
        #expect(call.connectedAt == Timestamp(rfc3339: "2026-11-18T04:30:08Z"))
        #expect(call.endedAt == Timestamp(rfc3339: "2026-11-18T04:30:11Z"))
        #expect(call.record == true)
        #expect(call.optOutAt == nil)
        #expect(call.pauses == [])
    }

    @Test func endedAtKeepsItsMilliseconds() throws {
        let call = try CallDescription.decode(try Fixtures.bytes("calls/CA5092f79312c4a125a498a4c3be10e2bb.json"))
        #expect(call.endedAt.description == "2026-11-21T12:40:03.200Z")
        #expect(call.endedAt.milliseconds - call.answeredAt!.milliseconds == 1200)
    }

    @Test func optOutMidCallIsKept() throws {
        let call = try CallDescription.decode(try Fixtures.bytes("calls/CA9d4de30a45103ae007164857f750f66d.json"))
        #expect(call.optOutAt == Timestamp(rfc3339: "2026-11-22T10:30:06Z"))
    }

    @Test func pausesAreRead() throws {
        let doc = try fullCall().setting("pauses", .array([
            .object([("from", .string("2026-11-18T04:30:05Z")), ("to", .string("2026-11-18T04:30:06Z"))]),
            .object([("from", .string("2026-11-18T04:30:06Z")), ("to", .string("2026-11-18T04:30:07.500Z"))]),
        ]))
        let call = try CallDescription.decode(doc.bytes)
        #expect(call.pauses.count == 2)
        #expect(call.pauses[1].to == Timestamp(rfc3339: "2026-11-18T04:30:07.500Z"))
    }

    @Test func nullOptionalsAreAbsent() throws {
        let doc = try fullCall().setting("callerId", .null).setting("record", .null).setting("recordingChannels", .null)
            .setting("connectedAt", .null).setting("optOutAt", .null)
        let call = try CallDescription.decode(doc.bytes)
        #expect(call.callerId == nil && call.record == nil && call.recordingChannels == nil)
        #expect(call.connectedAt == nil && call.optOutAt == nil && call.agentLeg != nil)
    }

    @Test(arguments: [("mono", RequestedChannels.mono), ("single", .single), ("dual", .dual)])
    func everyChannelsValueIsAccepted(text: String, value: RequestedChannels) throws {
        #expect(try CallDescription.decode(try fullCall().setting("recordingChannels", .string(text)).bytes).recordingChannels == value)
    }
}

struct MalformedCallTests {
    @Test(arguments: ["account", "callSid", "flow", "from", "to", "outcome", "direction", "startedAt", "endedAt"])
    func missingRequiredFieldIsNamed(field: String) throws {
        let v = callViolations(try fullCall().removing(field))
        #expect(v.map(\.path) == [field])
        #expect(v.first?.reason.hasPrefix("required") == true)
    }

    @Test(arguments: [("flow", "a/b"), ("flow", ".."), ("flow", ""), ("callSid", "CA/../x"), ("callSid", ".."), ("outcome", "dis puted"),
                      ("account", "AC/x"), ("from", ""), ("to", ""), ("direction", "sideways"), ("startedAt", "yesterday"),
                      ("endedAt", "2026-11-18 04:30:11"), ("recordingChannels", "stereo"), ("recordingChannels", "Dual")])
    func badValueIsNamed(field: String, value: String) throws {
        #expect(callViolations(try fullCall().setting(field, .string(value))).map(\.path) == [field])
    }

    @Test(arguments: [("recordingChannels", JSONValue.int(2)), ("record", .string("true")), ("callSid", .int(1)),
                      ("startedAt", .int(1_795_000_000)), ("pauses", .object([])), ("callerId", .bool(true))])
    func wrongTypeIsNamed(field: String, value: JSONValue) throws {
        #expect(callViolations(try fullCall().setting(field, value)).map(\.path) == [field])
    }

    @Test func unknownFieldIsNamed() throws {
        let v = callViolations(try fullCall().setting("colour", .string("red")))
        #expect(v.map(\.path) == ["colour"])
        #expect(v.first?.reason.contains("unknown field") == true)
    }

    @Test func endedBeforeStartedIsRefused() throws {
        let v = callViolations(try Fixtures.callJSON(unansweredCallSid).setting("endedAt", .string("2026-11-24T08:29:59Z")))
        #expect(v.map(\.path) == ["endedAt"])
        #expect(v.first?.reason.contains("startedAt") == true)
    }

    @Test func answeredBeforeStartedIsRefused() throws {
        let v = callViolations(try fullCall().setting("answeredAt", .string("2026-11-18T04:29:59Z")))
        #expect(v.map(\.path) == ["answeredAt"])
    }

    @Test func endedBeforeAnsweredIsRefused() throws {
        let doc = try fullCall().setting("answeredAt", .string("2026-11-18T04:30:04Z")).setting("connectedAt", .null)
            .setting("endedAt", .string("2026-11-18T04:30:03Z"))
        #expect(callViolations(doc).map(\.path) == ["endedAt"])
    }

    @Test func connectedBeforeAnsweredIsRefused() throws {
        let v = callViolations(try fullCall().setting("connectedAt", .string("2026-11-18T04:30:03.999Z")))
        #expect(v.map(\.path) == ["connectedAt"])
        #expect(v.first?.reason.contains("answeredAt") == true)
    }

    @Test func connectedAfterEndedIsRefused() throws {
        #expect(callViolations(try fullCall().setting("connectedAt", .string("2026-11-18T04:30:12Z"))).map(\.path) == ["connectedAt"])
    }

    @Test func connectedOrOptedOutWithoutAnswerIsRefused() throws {
        let doc = try Fixtures.callJSON(unansweredCallSid)
        #expect(callViolations(doc.setting("connectedAt", .string("2026-11-24T08:30:10Z"))).map(\.path) == ["connectedAt"])
        #expect(callViolations(doc.setting("optOutAt", .string("2026-11-24T08:30:10Z"))).map(\.path) == ["optOutAt"])
    }

    @Test func optOutAfterEndedIsRefused() throws {
        let v = callViolations(try fullCall().setting("optOutAt", .string("2026-11-18T04:30:11.001Z")))
        #expect(v.map(\.path) == ["optOutAt"])
        #expect(v.first?.reason.contains("endedAt") == true)
    }

    @Test func optOutBeforeAnsweredIsRefused() throws {
        #expect(callViolations(try fullCall().setting("optOutAt", .string("2026-11-18T04:30:01Z"))).map(\.path) == ["optOutAt"])
    }

    @Test func optOutAtTheEndsIsAccepted() throws {
        #expect(callViolations(try fullCall().setting("optOutAt", .string("2026-11-18T04:30:11Z"))) == [])
        #expect(callViolations(try fullCall().setting("optOutAt", .string("2026-11-18T04:30:04Z"))) == [])
    }

    @Test(arguments: ["../x.wav", "legs/../../x.wav", "/etc/passwd", "", "a/../../b"])
    func legPathLeavingTheCallFolderIsRefused(path: String) throws {
        let legs = JSONValue.object([("agent", .string(path)), ("customer", .string("legs/ok.wav"))])
        #expect(callViolations(try fullCall().setting("legs", legs)).map(\.path) == ["legs.agent"])
        let swapped = JSONValue.object([("agent", .string("legs/ok.wav")), ("customer", .string(path))])
        #expect(callViolations(try fullCall().setting("legs", swapped)).map(\.path) == ["legs.customer"])
    }

    @Test(arguments: ["legs/a.wav", "a..b.wav", "./legs/a.wav", "x/y/z.wav"])
    func relativePathInsideTheCallFolderIsAccepted(path: String) throws {
        let legs = JSONValue.object([("agent", .string(path)), ("customer", .string(path))])
        #expect(callViolations(try fullCall().setting("legs", legs)) == [])
    }

    @Test func answeredCallNeedsLegs() throws {
        for doc in [try fullCall().removing("legs"), try fullCall().setting("legs", .null)] {
            let v = callViolations(doc)
            #expect(v.map(\.path) == ["legs"])
            #expect(v.first?.reason.contains("required for an answered call") == true)
        }
    }

    @Test func unansweredCallWithLegsIsRefused() throws {
        let doc = try fullCall().setting("answeredAt", .null).removing("connectedAt").setting("optOutAt", .null)
        let v = callViolations(doc)
        #expect(v.map(\.path) == ["legs"])
        #expect(v.first?.reason.contains("never answered") == true)
    }

    @Test func finishedRecordingFieldIsRefused() throws {
        // The interim contract named a finished recording; the engine makes it from the legs now.
        let v = callViolations(try fullCall().setting("recording", .string("recordings/x.wav")))
        #expect(v.map(\.path) == ["recording"])
        #expect(v.first?.reason.contains("makes the recording from the legs") == true)
    }

    @Test func legsNeedBothPartiesAndNothingElse() throws {
        #expect(callViolations(try fullCall().setting("legs", .object([("agent", .string("a.wav"))]))).map(\.path) == ["legs.customer"])
        let extra = JSONValue.object([("agent", .string("a.wav")), ("customer", .string("c.wav")), ("ivr", .string("i.wav"))])
        #expect(callViolations(try fullCall().setting("legs", extra)).map(\.path) == ["legs.ivr"])
        #expect(callViolations(try fullCall().setting("legs", .array([]))).map(\.path) == ["legs"])
    }

    @Test func badPausesAreNamed() throws {
        func pause(_ from: String, _ to: String) -> JSONValue { .object([("from", .string(from)), ("to", .string(to))]) }
        let backwards = try fullCall().setting("pauses", .array([pause("2026-11-18T04:30:07Z", "2026-11-18T04:30:06Z")]))
        #expect(callViolations(backwards).map(\.path) == ["pauses[0]"])
        let early = try fullCall().setting("pauses", .array([pause("2026-11-18T04:30:03Z", "2026-11-18T04:30:05Z")]))
        #expect(callViolations(early).map(\.path) == ["pauses[0].from"])
        let late = try fullCall().setting("pauses", .array([pause("2026-11-18T04:30:09Z", "2026-11-18T04:30:12Z")]))
        #expect(callViolations(late).map(\.path) == ["pauses[0].to"])
        let overlapping = try fullCall().setting("pauses", .array([pause("2026-11-18T04:30:05Z", "2026-11-18T04:30:08Z"),
                                                                    pause("2026-11-18T04:30:07Z", "2026-11-18T04:30:09Z")]))
        #expect(callViolations(overlapping).map(\.path) == ["pauses[1]"])
        let notTimes = try fullCall().setting("pauses", .array([pause("soon", "later")]))
        #expect(callViolations(notTimes).map(\.path) == ["pauses[0]"])
    }

    @Test func notJSONIsRefusedAsACall() throws {
        let v = callViolations(Array("{\"callSid\": ".utf8))
        #expect(v.count == 1)
        #expect(v.first?.path == "")
        #expect(v.first?.reason.contains("line 1") == true)
        #expect(callViolations(Array("[]".utf8)).map(\.path) == [""])
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let doc = try fullCall().removing("callSid").setting("flow", .string("a/b")).setting("colour", .int(1))
            .setting("optOutAt", .string("2026-11-18T04:30:30Z")).setting("recordingChannels", .string("quad"))
        let paths = Set(callViolations(doc).map(\.path))
        #expect(paths == ["callSid", "flow", "colour", "optOutAt", "recordingChannels"])
        do {
            _ = try CallDescription.decode(doc.bytes)
        } catch {
            #expect(error.description.hasPrefix("call refused (5 problems):"))
        }
    }
}
