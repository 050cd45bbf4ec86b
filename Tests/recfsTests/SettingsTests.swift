// Covers `recfs settings show|validate|set`: every violation listed with its path, refused sets change nothing, valid sets apply and move expiries.

import Foundation
import Testing

/// An invalid settings document and the violation paths it must be refused with.
struct BadSettings: CustomTestStringConvertible, Sendable {
    let name: String
    let plan: String
    let document: String
    let paths: [String]
    var testDescription: String { "\(name) (\(plan))" }
}

@Suite("settings")
struct SettingsTests {
    static let bad: [BadSettings] = [
        BadSettings(name: "unknown top-level field", plan: "growth", document: #"{"colour": "red"}"#, paths: ["colour"]),
        BadSettings(name: "unknown account field", plan: "growth", document: #"{"account": {"retention": 30}}"#, paths: ["account.retention"]),
        BadSettings(name: "wrong type", plan: "growth", document: #"{"account": {"retentionDays": "30", "beep": 1}}"#,
                    paths: ["account.retentionDays", "account.beep"]),
        BadSettings(name: "retention above the plan's range", plan: "growth", document: #"{"account": {"retentionDays": 181}}"#,
                    paths: ["account.retentionDays"]),
        BadSettings(name: "retention below the plan's range", plan: "growth", document: #"{"account": {"retentionDays": 6}}"#,
                    paths: ["account.retentionDays"]),
        BadSettings(name: "retention above Starter's range", plan: "starter", document: #"{"account": {"retentionDays": 91}}"#,
                    paths: ["account.retentionDays"]),
        BadSettings(name: "dual on Starter", plan: "starter",
                    document: #"{"account": {"mode": "dual"}, "flows": {"sales": {"override": true, "mode": "dual"}}}"#,
                    paths: ["account.mode", "flows.sales.mode"]),
        BadSettings(name: "unknown region", plan: "growth", document: #"{"account": {"region": "eu-west-1"}}"#, paths: ["account.region"]),
        BadSettings(name: "selective retention on Growth", plan: "growth",
                    document: #"{"retention": {"rules": [{"flow": "sales", "days": 60}]}}"#, paths: ["retention.rules"]),
        BadSettings(name: "everything at once", plan: "growth", document: """
            {"bogus": true,
             "account": {"retentionDays": 500, "region": "mars-1", "beep": "yes", "colour": "red"},
             "retention": {"rules": [{"outcome": "disputed", "days": 365}]}}
            """, paths: ["bogus", "account.colour", "account.retentionDays", "account.beep", "account.region",
                         "retention.rules", "retention.rules[0].days"]),
        BadSettings(name: "every section wrong", plan: "growth", document: """
            {"storage": {"kind": "s3", "bucket": "b", "region": "ap-south-1", "accessKeyId": "A", "secretAccessKey": "S"},
             "flows": {"../x": {"override": true}, "ok": {"override": "yes"}},
             "account": {"mp3BitrateKbps": 100, "enabled": null, "startPoint": "middle", "pauses": 3, "timeZone": "Mars/Olympus"},
             "access": {"downloadUrlTtlHours": 0, "members": [{"user": "bob", "role": "ghost"}], "ipAllowList": ["10.0.0.1/8"]},
             "accountSid": "ACother", "plan": "enterprise", "limits": {}}
            """, paths: ["accountSid", "plan", "limits", "account.enabled", "account.mp3BitrateKbps", "account.startPoint",
                         "account.pauses", "account.timeZone", "flows.../x", "flows.ok.override", "access.members[0].role",
                         "access.ipAllowList[0]", "access.downloadUrlTtlHours", "storage.kind", "storage.bucket"]),
        BadSettings(name: "duplicate member", plan: "growth", document: #"{"account": {"retentionDays": 30, "retentionDays": 500}}"#, paths: []),
        BadSettings(name: "not JSON", plan: "growth", document: #"{"account": {"retentionDays": 30"#, paths: []),
        BadSettings(name: "the Enterprise fixture on Growth", plan: "growth", document: "@enterprise.json",
                    paths: ["account.retentionDays", "retention.rules", "retention.rules[1].days"]),
    ]

    static func document(_ text: String) throws -> Data {
        if text.hasPrefix("@") { return try Data(contentsOf: Fixtures.settings.appendingPathComponent(String(text.dropFirst()))) }
        return Data(text.utf8)
    }

    @Test("validate and set refuse an invalid document, list every violation with its path, and change nothing",
          arguments: SettingsTests.bad)
    func refused(_ bad: BadSettings) throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let account = bad.plan == "starter" ? Fixtures.starterAccount : Fixtures.demoAccount
        let store = try StoreHelper.initStore(tmp, account: account, plan: bad.plan)
        if bad.plan == "growth" {
            try CLI.ok(["ingest", "--store", store] + Fixtures.demoCallFiles)
        } else {
            try CLI.ok(["ingest", "--store", store, Fixtures.callFile(Fixtures.starterCall)])
        }
        let file = tmp.sub("settings.json")
        try Self.document(bad.document).write(to: URL(fileURLWithPath: file))

        let showBefore = try CLI.ok(["settings", "show", "--store", store])
        let lsBefore = try CLI.ok(["ls", "--store", store, "--json"])

        for command in ["validate", "set"] {
            let r = try CLI.run(["settings", command, "--store", store, file])
            #expect(r.status != 0, "settings \(command) should refuse \(bad.name): \(r.summary)")
            #expect(r.err.contains("refused"), "\(r.summary)")
            for path in bad.paths {
                #expect(r.errLines.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\(path): ") },
                        "settings \(command): no line for \(path): \(r.summary)")
            }
            if !bad.paths.isEmpty {
                let count = bad.paths.count
                #expect(r.err.contains("(\(count) problem\(count == 1 ? "" : "s"))"), "expected exactly \(count) problems: \(r.summary)")
            }
            #expect(!r.out.contains("valid for"), "\(r.summary)")
        }

        let showAfter = try CLI.ok(["settings", "show", "--store", store])
        #expect(showAfter.stdout == showBefore.stdout, "settings show changed after a refused set")
        let lsAfter = try CLI.ok(["ls", "--store", store, "--json"])
        #expect(lsAfter.stdout == lsBefore.stdout, "ls changed after a refused set")
    }

    @Test("the fixture settings documents validate on the plans they fit")
    func fixtureDocuments() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        for (plan, account, fits, misfits) in [("starter", Fixtures.starterAccount, ["starter.json"], ["growth.json", "enterprise.json"]),
                                               ("growth", Fixtures.demoAccount, ["starter.json", "growth.json"], ["enterprise.json"]),
                                               ("enterprise", "ACent", ["starter.json", "growth.json", "enterprise.json"], [])] {
            let store = try StoreHelper.initStore(tmp, account: account, plan: plan, name: plan)
            for f in fits {
                let r = try CLI.run(["settings", "validate", "--store", store, Fixtures.settings.appendingPathComponent(f).path])
                #expect(r.status == 0, "\(f) on \(plan): \(r.summary)")
            }
            for f in misfits {
                let r = try CLI.run(["settings", "validate", "--store", store, Fixtures.settings.appendingPathComponent(f).path])
                #expect(r.status != 0, "\(f) on \(plan): \(r.summary)")
            }
        }
    }

    @Test("a valid set (retention 90 → 30 on Growth) applies, shows, and moves every expiry")
    func validSet() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp)

        let iso = ISO8601DateFormatter()
        func expiries() throws -> [String: (started: Date, expires: Date)] {
            var out: [String: (Date, Date)] = [:]
            for row in try StoreHelper.list(store) {
                let sid = try #require(row["callSid"] as? String)
                let s = try #require((row["startedAt"] as? String).flatMap(iso.date(from:)))
                let e = try #require((row["expiresAt"] as? String).flatMap(iso.date(from:)))
                out[sid] = (s, e)
            }
            return out
        }
        let before = try expiries()
        #expect(before.count == Fixtures.recorded.count)
        for (sid, t) in before {
            #expect(t.expires.timeIntervalSince(t.started) == 90 * 86_400, "\(sid): Growth default is 90 days")
        }

        // The user's round trip: show, edit, set (read-only members left in, unchanged).
        let shown = try CLI.ok(["settings", "show", "--store", store]).out
        let same = tmp.sub("same.json")
        try shown.write(toFile: same, atomically: false, encoding: .utf8)
        let unchanged = try CLI.ok(["settings", "set", "--store", store, same])
        #expect(unchanged.out.contains("no change"), "\(unchanged.summary)")
        #expect(try CLI.ok(["settings", "show", "--store", store]).out == shown)

        #expect(shown.components(separatedBy: "\"retentionDays\": 90,").count == 2, "one account.retentionDays in: \(shown)")
        let edited = shown.replacingOccurrences(of: "\"retentionDays\": 90,", with: "\"retentionDays\": 30,")
        let editedFile = tmp.sub("edited.json")
        try edited.write(toFile: editedFile, atomically: false, encoding: .utf8)
        let valid = try CLI.ok(["settings", "validate", "--store", store, editedFile])
        #expect(valid.out.contains("valid for the Growth plan"), "\(valid.summary)")
        #expect(try CLI.ok(["settings", "show", "--store", store]).out == shown, "validate applied something")

        let set = try CLI.ok(["settings", "set", "--store", store, editedFile])
        #expect(set.out.contains("applied"), "\(set.summary)")
        #expect(set.out.contains("expiry moved for \(Fixtures.recorded.count) recordings"), "\(set.summary)")
        let after = try CLI.ok(["settings", "show", "--store", store]).out
        #expect(after == edited, "settings show should print the document just set")

        let moved = try expiries()
        #expect(Set(moved.keys) == Set(before.keys))
        for (sid, t) in moved {
            #expect(t.expires.timeIntervalSince(t.started) == 30 * 86_400, "\(sid): expiry should be 30 days after the call")
        }
        // The table shows the new expiry as a local (Asia/Kolkata) date.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "Asia/Kolkata"))
        let table = try CLI.ok(["ls", "--store", store]).out.split(separator: "\n").dropFirst()
        #expect(table.count == Fixtures.recorded.count)
        for line in table {
            let cells = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let t = try #require(moved[cells[2]])
            let c = calendar.dateComponents([.year, .month, .day], from: t.expires)
            let local = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
            #expect(cells.last == local, "\(cells[2]): EXPIRES should read \(local): \(line)")
        }

        // From stdin, a partial document: back to 90; the other fields keep their values.
        let partial = tmp.sub("partial.json")
        try #"{"account": {"retentionDays": 90}}"#.write(toFile: partial, atomically: false, encoding: .utf8)
        let fromStdin = try CLI.ok(["settings", "set", "--store", store, "-"], stdin: URL(fileURLWithPath: partial))
        #expect(fromStdin.out.contains("applied"), "\(fromStdin.summary)")
        #expect(try CLI.ok(["settings", "show", "--store", store]).out == shown, "back to the original settings")
        for (sid, t) in try expiries() {
            #expect(t.expires.timeIntervalSince(t.started) == 90 * 86_400, "\(sid): back to 90 days")
        }
    }

    @Test("changing the time zone moves calls between local dates")
    func timeZoneChange() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp)
        let tzEdge = "CAbda05a1c596c28408f9afad4e0717ee9"
        func sids(_ date: String) throws -> Set<String> { Set(try StoreHelper.list(store, ["--date", date]).compactMap { $0["callSid"] as? String }) }
        #expect(try sids("2026-11-23") == [])
        let utc = tmp.sub("utc.json")
        try #"{"account": {"timeZone": "UTC"}}"#.write(toFile: utc, atomically: false, encoding: .utf8)
        try CLI.ok(["settings", "set", "--store", store, utc])
        #expect(try sids("2026-11-23") == [tzEdge])
        #expect(try sids("2026-11-24") == [Fixtures.widebandSid, Fixtures.pausedSid])
        let row = try StoreHelper.table(store).first { $0.count > 2 && $0[2] == tzEdge }
        #expect(row?.first == "2026-11-23", "\(String(describing: row))")
    }

    @Test("a shorter retention hides a recording past its new expiry; restoring it brings it back")
    func retentionHidesAndRestores() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.initStore(tmp)
        // A copy of the dual call that started 60 days ago (whole seconds), whatever today is.
        let sixtyDaysAgo = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 60 * 86_400).rounded(.down))
        let iso = ISO8601DateFormatter()
        let sid = "CAsixtydaysago000000000000000000"
        let dir = tmp.sub("old")
        var call = try Fixtures.callJSON(Fixtures.dualSid)
        call["callSid"] = sid
        call["startedAt"] = iso.string(from: sixtyDaysAgo)
        call["answeredAt"] = iso.string(from: sixtyDaysAgo.addingTimeInterval(4))
        call["connectedAt"] = iso.string(from: sixtyDaysAgo.addingTimeInterval(8))
        call["endedAt"] = iso.string(from: sixtyDaysAgo.addingTimeInterval(11))
        try Fixtures.copyLegs(into: dir)
        try JSONSerialization.data(withJSONObject: call).write(to: URL(fileURLWithPath: dir + "/old.json"))
        try CLI.ok(["ingest", "--store", store, dir + "/old.json", Fixtures.callFile(Fixtures.widebandSid)])

        func listed(_ extra: [String] = []) throws -> Set<String> { Set(try StoreHelper.list(store, extra).compactMap { $0["callSid"] as? String }) }
        #expect(try listed() == [sid, Fixtures.widebandSid], "90 days: both listed")

        let r30 = tmp.sub("r30.json"), r90 = tmp.sub("r90.json")
        try #"{"account": {"retentionDays": 30}}"#.write(toFile: r30, atomically: false, encoding: .utf8)
        try #"{"account": {"retentionDays": 90}}"#.write(toFile: r90, atomically: false, encoding: .utf8)
        let set30 = try CLI.ok(["settings", "set", "--store", store, r30])
        #expect(set30.out.contains("expiry moved for 2 recordings"), "\(set30.summary)")
        #expect(try listed() == [Fixtures.widebandSid], "30 days: the 60-day-old call is past its expiry")
        #expect(try listed(["--include-expired"]) == [sid, Fixtures.widebandSid])
        let expired = try CLI.run(["cat", "--store", store, sid])
        expectFailure(expired, mentioning: [sid, "expired"])
        #expect(expired.stdout.isEmpty)

        try CLI.ok(["settings", "set", "--store", store, r90])
        #expect(try listed() == [sid, Fixtures.widebandSid], "back to 90 days: listed again")
        #expect(try StoreHelper.cat(store, sid) == (try Fixtures.recording(Fixtures.dualSid)))
    }
}
