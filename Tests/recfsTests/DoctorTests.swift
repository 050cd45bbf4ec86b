// Covers `recfs doctor`: each row of the seed's troubleshooting table shown by a fixture call,
// plus where the recording is stored and when it expires, as text and as JSON.

import Foundation
import Testing

@Suite("doctor")
struct DoctorTests {
    /// `recfs doctor --json` parsed.
    static func doctor(_ store: String, _ sid: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let r = try CLI.run(["doctor", "--store", store, sid, "--json"])
        #expect(r.status == 0, "\(r.summary)", sourceLocation: sourceLocation)
        return try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], sourceLocation: sourceLocation)
    }

    /// The finding for the table row `issue`.
    static func finding(_ report: [String: Any], _ issue: String) throws -> (status: String, finding: String, resolution: String) {
        let findings = try #require(report["findings"] as? [[String: Any]])
        #expect(findings.count == 5, "one finding per troubleshooting row")
        let f = try #require(findings.first { $0["issue"] as? String == issue }, "no finding for \(issue)")
        return (f["status"] as? String ?? "", f["finding"] as? String ?? "", f["resolution"] as? String ?? "")
    }

    static func settings(_ tmp: TempDir, _ store: String, _ json: String) throws {
        let file = tmp.sub("settings-\(UUID().uuidString).json")
        try json.write(toFile: file, atomically: false, encoding: .utf8)
        try CLI.ok(["settings", "set", "--store", store, file])
    }

    @Test("no recording: not enabled, by the call, the flow or the account")
    func notEnabled() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        // Call: Record false.
        let store = try StoreHelper.demoStore(tmp)
        let byCall = try Self.finding(try Self.doctor(store, "CAf77295a0a2627353e3567e532d5d09c7"), "No recording for a call")
        #expect(byCall.status == "problem" && byCall.finding.contains("call settings") && byCall.resolution.contains("Record=true"), "\(byCall)")

        // Flow: collections overridden off, then the collections call.
        let flowStore = try StoreHelper.initStore(tmp, name: "flow")
        try Self.settings(tmp, flowStore, #"{"flows": {"collections": {"override": true, "enabled": false}}}"#)
        try CLI.ok(["ingest", "--store", flowStore, Fixtures.callFile("CAe0c893904726659b096dc93ff823b298")])
        let byFlow = try Self.finding(try Self.doctor(flowStore, "CAe0c893904726659b096dc93ff823b298"), "No recording for a call")
        #expect(byFlow.status == "problem" && byFlow.finding.contains("flow settings") && byFlow.resolution.contains("flows.collections"), "\(byFlow)")

        // Account: recording off for everything.
        let accountStore = try StoreHelper.initStore(tmp, name: "account")
        try Self.settings(tmp, accountStore, #"{"account": {"enabled": false}}"#)
        try CLI.ok(["ingest", "--store", accountStore, Fixtures.callFile("CAbda05a1c596c28408f9afad4e0717ee9")])
        let text = try CLI.ok(["doctor", "--store", accountStore, "CAbda05a1c596c28408f9afad4e0717ee9"])
        #expect(text.out.contains("[problem] No recording for a call: recording is not enabled for this call: the account settings disabled it"), "\(text.summary)")
        #expect(text.out.contains("resolution: recording is off for the whole account"), "\(text.summary)")

        // A recorded call: enabled, and by whom.
        let recorded = try Self.finding(try Self.doctor(store, Fixtures.dualSid), "No recording for a call")
        #expect(recorded.status == "ok" && recorded.finding.contains("enabled"), "\(recorded)")
    }

    @Test("recording is empty: the call was under 2 s")
    func tooShort() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp)
        let report = try Self.doctor(store, "CA5092f79312c4a125a498a4c3be10e2bb")
        let f = try Self.finding(report, "Recording is empty")
        #expect(f.status == "problem" && f.finding.contains("1.2 s, under the 2 s minimum"), "\(f)")
        #expect(report["recording"] is NSNull)
        let ok = try Self.finding(try Self.doctor(store, Fixtures.dualSid), "Recording is empty")
        #expect(ok.status == "ok" && ok.finding.contains("7.0 s"), "\(ok)")
    }

    @Test("dual-channel not working: the Starter plan has none")
    func dualOnStarter() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.initStore(tmp, account: Fixtures.starterAccount, plan: "starter", name: "starter")
        try CLI.ok(["ingest", "--store", store, Fixtures.callFile(Fixtures.starterCall)])
        let report = try Self.doctor(store, Fixtures.starterCall)
        let f = try Self.finding(report, "Dual-channel not working")
        #expect(f.status == "problem" && f.finding.contains("Growth and Enterprise plans only") && f.resolution.contains("account manager"), "\(f)")
        #expect((report["recording"] as? [String: Any])?["mode"] as? String == "single")
        // On Growth the same request is given.
        let growth = try StoreHelper.demoStore(tmp, calls: [Fixtures.dualSid])
        let given = try Self.finding(try Self.doctor(growth, Fixtures.dualSid), "Dual-channel not working")
        #expect(given.status == "ok" && given.finding.contains("agent") && given.finding.contains("customer"), "\(given)")
    }

    @Test("recording quality: rate, clipping and silence of each leg, measured at ingest")
    func quality() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp, calls: [Fixtures.widebandSid])
        let f = try Self.finding(try Self.doctor(store, Fixtures.widebandSid), "Recording quality poor")
        #expect(f.status == "ok", "\(f)")
        for words in ["agent leg 16000 Hz", "customer leg 16000 Hz", "0 % clipped", "silent", "dBFS"] {
            #expect(f.finding.contains(words), "\(words): \(f)")
        }
        #expect(f.resolution.contains("CDR"))

        // A call whose customer leg is silence and whose agent clips: both named.
        let dir = tmp.sub("bad-audio")
        try Fixtures.copyLegs(into: dir)
        var call = try Fixtures.callJSON(Fixtures.dualSid)
        call["callSid"] = "CAbadaudio000000000000000000000000"
        let legs = try #require(call["legs"] as? [String: String])
        let agent = dir + "/" + legs["agent"]!, customer = dir + "/" + legs["customer"]!
        var a = try Data(contentsOf: URL(fileURLWithPath: agent))
        for i in stride(from: 44, to: a.count, by: 2) { a[i] = 0xFF; a[i + 1] = 0x7F }
        try a.write(to: URL(fileURLWithPath: agent))
        var c = try Data(contentsOf: URL(fileURLWithPath: customer))
        for i in 44..<c.count { c[i] = 0 }
        try c.write(to: URL(fileURLWithPath: customer))
        try JSONSerialization.data(withJSONObject: call).write(to: URL(fileURLWithPath: dir + "/bad.json"))
        try CLI.ok(["ingest", "--store", store, dir + "/bad.json"])
        let bad = try Self.finding(try Self.doctor(store, "CAbadaudio000000000000000000000000"), "Recording quality poor")
        #expect(bad.status == "problem" && bad.finding.contains("the agent leg clips") && bad.finding.contains("the customer leg is almost all silence"), "\(bad)")
    }

    @Test("custom storage: default storage said plainly; configured custom storage is not delivered yet")
    func customStorage() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp, calls: [Fixtures.dualSid])
        let f = try Self.finding(try Self.doctor(store, Fixtures.dualSid), "Custom storage not receiving files")
        #expect(f.status == "ok" && f.finding.contains("default storage") && f.finding.contains("ap-south-1"), "\(f)")

        let enterprise = try StoreHelper.initStore(tmp, plan: "enterprise", name: "enterprise")
        try Self.settings(tmp, enterprise, #"{"storage": {"kind": "s3", "bucket": "acme-recordings", "region": "ap-south-1", "accessKeyId": "AKIA", "secretAccessKey": "secret"}}"#)
        try CLI.ok(["ingest", "--store", enterprise, Fixtures.callFile(Fixtures.dualSid)])
        let custom = try Self.finding(try Self.doctor(enterprise, Fixtures.dualSid), "Custom storage not receiving files")
        #expect(custom.status == "problem" && custom.finding.contains("s3") && custom.finding.contains("no storage adapters"), "\(custom)")
    }

    @Test("where it is stored and when it expires, or that it has expired")
    func storageAndExpiry() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp, calls: [Fixtures.dualSid])
        let report = try Self.doctor(store, Fixtures.dualSid)
        let recording = try #require(report["recording"] as? [String: Any])
        let key = try #require(recording["blobKey"] as? String)
        #expect(key.hasPrefix("ACdemo/2026/11/18/") && FileManager.default.fileExists(atPath: store + "/blobs/ap-south-1/" + key))
        #expect(recording["region"] as? String == "ap-south-1" && recording["expired"] as? Bool == false)
        #expect(recording["expiresAt"] as? String == "2027-02-16T04:30:00Z")
        #expect((report["storage"] as? String)?.contains(key) == true)
        #expect((report["expiry"] as? String)?.contains("expires at 2027-02-16T04:30:00Z") == true)

        // A call from 60 days ago under 30-day retention: expired, and doctor says so.
        let sixtyDaysAgo = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 60 * 86_400).rounded(.down))
        let iso = ISO8601DateFormatter()
        let dir = tmp.sub("old")
        try Fixtures.copyLegs(into: dir)
        var call = try Fixtures.callJSON(Fixtures.dualSid)
        call["callSid"] = "CAdoctorexpired00000000000000000"
        for (key, offset) in [("startedAt", 0.0), ("answeredAt", 4), ("connectedAt", 8), ("endedAt", 11)] {
            call[key] = iso.string(from: sixtyDaysAgo.addingTimeInterval(offset))
        }
        try JSONSerialization.data(withJSONObject: call).write(to: URL(fileURLWithPath: dir + "/old.json"))
        try CLI.ok(["ingest", "--store", store, dir + "/old.json"])
        try Self.settings(tmp, store, #"{"account": {"retentionDays": 30}}"#)
        let text = try CLI.ok(["doctor", "--store", store, "CAdoctorexpired00000000000000000"])
        #expect(text.out.contains("expiry: expired at"), "\(text.summary)")
        #expect(text.out.contains("no longer readable"), "\(text.summary)")
    }

    @Test("an unknown call is refused with its sid")
    func unknownCall() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.initStore(tmp)
        expectFailure(try CLI.run(["doctor", "--store", store, "CAnosuchcall"]), mentioning: ["CAnosuchcall"])
    }
}
