// SettingsValidationTests: SettingsDocument.decode refuses every rule violation, each with its JSON path and reason.

import Testing
@testable import RecordingCore

/// The paths of `violations`, for comparing without the wording.
private func paths(_ violations: [SettingsViolation]) -> [String] { violations.map(\.path) }

/// The one violation at `path`, failing the test if there is not exactly one.
private func only(_ violations: [SettingsViolation], at path: String,
                  sourceLocation: SourceLocation = #_sourceLocation) throws -> SettingsViolation {
    #expect(paths(violations) == [path], sourceLocation: sourceLocation)
    return try #require(violations.first { $0.path == path }, sourceLocation: sourceLocation)
}

struct UnknownFieldTests {
    @Test(arguments: [
        (#"{"colour": "red"}"#, "colour"),
        (#"{"account": {"colour": "red"}}"#, "account.colour"),
        (#"{"flows": {"sales": {"override": true, "volume": 11}}}"#, "flows.sales.volume"),
        (#"{"retention": {"rules": [], "keep": true}}"#, "retention.keep"),
        (#"{"access": {"roles": {"admin": {"recordings": "read", "settings": "write", "colour": 1}}, "members": [{"user": "root", "role": "admin"}]}}"#,
         "access.roles.admin.colour"),
        (#"{"access": {"members": [{"user": "root", "role": "admin", "since": 2020}]}}"#, "access.members[0].since"),
        (#"{"access": {"tokens": []}}"#, "access.tokens"),
        (#"{"storage": {"kind": "default", "bucket": "b"}}"#, "storage.bucket"),
    ])
    func unknownFieldIsNamedByItsPath(document: String, path: String) throws {
        let v = try only(settingsViolations(document, plan: .enterprise), at: path)
        #expect(v.reason.contains("unknown field"))
    }

    @Test func retentionRuleWithAnUnknownField() {
        let doc = #"{"retention": {"rules": [{"outcome": "disputed", "days": 365, "why": "law"}]}}"#
        #expect(paths(settingsViolations(doc, plan: .enterprise)) == ["retention.rules[0].why"])
    }
}

struct WrongTypeTests {
    @Test(arguments: [
        (#"{"account": {"retentionDays": "90"}}"#, "account.retentionDays", "a string"),
        (#"{"account": {"retentionDays": 90.5}}"#, "account.retentionDays", "90.5"),
        (#"{"account": {"beep": 1}}"#, "account.beep", "a number"),
        (#"{"account": {"enabled": "yes"}}"#, "account.enabled", "a string"),
        (#"{"account": {"mode": 2}}"#, "account.mode", "a number"),
        (#"{"account": {"timeZone": null}}"#, "account.timeZone", "null"),
        (#"{"account": []}"#, "account", "an array"),
        (#"{"flows": []}"#, "flows", "an array"),
        (#"{"flows": {"sales": true}}"#, "flows.sales", "a boolean"),
        (#"{"flows": {"sales": {"override": "yes"}}}"#, "flows.sales.override", "a string"),
        (#"{"retention": {"rules": {}}}"#, "retention.rules", "an object"),
        (#"{"access": {"downloadUrlTtlHours": "24"}}"#, "access.downloadUrlTtlHours", "a string"),
        (#"{"access": {"ipAllowList": [10]}}"#, "access.ipAllowList[0]", "a number"),
        (#"{"storage": "default"}"#, "storage", "a string"),
        ("[]", "", "an array"),
    ])
    func wrongTypeIsNamedWithWhatWasFound(document: String, path: String, found: String) throws {
        let v = try only(settingsViolations(document, plan: .enterprise), at: path)
        #expect(v.reason.contains(found), "reason: \(v.reason)")
    }

    @Test func wrongTypeKeepsNothing() {
        // A refused document must not half-apply: decode throws, so nothing is returned at all.
        #expect(throws: InvalidDocument.self) {
            try decodeSettings(#"{"account": {"beep": 1, "retentionDays": 20}}"#, plan: .starter)
        }
    }
}

struct RetentionRangeTests {
    @Test func starterMessageNamesThePlanAndItsRange() throws {
        let v = try only(settingsViolations(#"{"account": {"retentionDays": 120}}"#, plan: .starter), at: "account.retentionDays")
        #expect(v.description == "account.retentionDays: 120 is outside Starter's range 7–90")
    }

    @Test(arguments: [
        (Plan.starter, 6), (.starter, 91), (.starter, 0), (.starter, -30),
        (.growth, 6), (.growth, 181), (.growth, 365),
        (.enterprise, 6), (.enterprise, 3651), (.enterprise, 100_000),
    ])
    func outsideThePlansRangeIsRefused(plan: Plan, days: Int) throws {
        let v = try only(settingsViolations(#"{"account": {"retentionDays": \#(days)}}"#, plan: plan), at: "account.retentionDays")
        let range = plan.retentionRange
        #expect(v.reason == "\(days) is outside \(plan.displayName)'s range \(range.lowerBound)–\(range.upperBound)")
    }

    @Test(arguments: [(Plan.starter, 7), (.starter, 30), (.starter, 90), (.growth, 7), (.growth, 180),
                      (.enterprise, 7), (.enterprise, 365), (.enterprise, 3650)])
    func insideThePlansRangeIsAccepted(plan: Plan, days: Int) throws {
        let s = try decodeSettings(#"{"account": {"retentionDays": \#(days)}}"#, plan: plan)
        #expect(s.account.retentionDays == days)
    }

    @Test func hugeNumberIsNotAWholeNumber() throws {
        let v = try only(settingsViolations(#"{"account": {"retentionDays": 99999999999999999999}}"#, plan: .enterprise),
                         at: "account.retentionDays")
        #expect(v.reason.contains("whole number"))
    }
}

struct DualChannelValidationTests {
    @Test func dualOnStarterAccountIsRefused() throws {
        let v = try only(settingsViolations(#"{"account": {"mode": "dual"}}"#, plan: .starter), at: "account.mode")
        #expect(v.reason.contains("Starter"))
        #expect(v.reason.contains("Growth and Enterprise"))
    }

    @Test func dualOnStarterFlowOverrideIsRefused() throws {
        let doc = #"{"flows": {"support": {"override": true, "mode": "single"}, "sales": {"override": true, "mode": "dual"}}}"#
        let v = try only(settingsViolations(doc, plan: .starter), at: "flows.sales.mode")
        #expect(v.reason.contains("Starter"))
    }

    @Test(arguments: [Plan.growth, .enterprise])
    func dualIsAcceptedOnGrowthAndEnterprise(plan: Plan) throws {
        let s = try decodeSettings(#"{"account": {"mode": "dual"}, "flows": {"sales": {"mode": "dual"}}}"#, plan: plan)
        #expect(s.account.mode == .dual)
        #expect(s.flows["sales"] == FlowOverride(override: true, enabled: nil, mode: .dual))
    }

    @Test func singleOnStarterIsAccepted() throws {
        let s = try decodeSettings(#"{"account": {"mode": "single"}, "flows": {"sales": {"override": false, "enabled": false}}}"#, plan: .starter)
        #expect(s.flows["sales"] == FlowOverride(override: false, enabled: false, mode: nil))
    }
}

struct AccountFieldTests {
    @Test(arguments: [
        ("region", #""eu-west-1""#), ("mode", #""stereo""#), ("format", #""ogg""#),
        ("startPoint", #""ring""#), ("pauses", #""mute""#), ("region", #""AP-SOUTH-1""#),
    ])
    func badChoiceIsRefusedWithTheOptions(field: String, value: String) throws {
        let v = try only(settingsViolations(#"{"account": {"\#(field)": \#(value)}}"#, plan: .enterprise), at: "account.\(field)")
        #expect(v.reason.contains("is not one of"))
    }

    @Test func regionChoiceListsBothRegions() throws {
        let v = try only(settingsViolations(#"{"account": {"region": "eu-west-1"}}"#, plan: .growth), at: "account.region")
        #expect(v.reason.contains("ap-south-1") && v.reason.contains("ap-southeast-1"))
    }

    @Test(arguments: [0, 8, 100, 129, 384, -128])
    func badMP3BitrateIsRefused(kbps: Int) throws {
        _ = try only(settingsViolations(#"{"account": {"mp3BitrateKbps": \#(kbps)}}"#, plan: .starter), at: "account.mp3BitrateKbps")
    }

    @Test(arguments: [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320])
    func everyMPEG1LayerIIIBitrateIsAccepted(kbps: Int) throws {
        #expect(try decodeSettings(#"{"account": {"mp3BitrateKbps": \#(kbps)}}"#, plan: .starter).account.mp3BitrateKbps == kbps)
    }

    @Test(arguments: ["Asia/Nowhere", "Mars/Olympus", "", "asia/kolkata", "+05:30", "IST", "Kolkata"])
    func invalidTimeZoneIsRefused(zone: String) throws {
        let v = try only(settingsViolations(#"{"account": {"timeZone": "\#(zone)"}}"#, plan: .starter), at: "account.timeZone")
        #expect(v.reason.contains("IANA"))
    }

    @Test(arguments: ["Asia/Kolkata", "Asia/Singapore", "UTC", "Europe/London", "America/New_York"])
    func ianaTimeZoneIsAccepted(zone: String) throws {
        #expect(try decodeSettings(#"{"account": {"timeZone": "\#(zone)"}}"#, plan: .starter).account.timeZone == zone)
    }

    @Test func everyAccountFieldIsRead() throws {
        let doc = #"""
        {"account": {"enabled": false, "mode": "dual", "format": "wav", "mp3BitrateKbps": 64, "retentionDays": 45,
                     "startPoint": "connect", "beep": true, "timeZone": "Asia/Singapore", "region": "ap-southeast-1", "pauses": "skip"}}
        """#
        let a = try decodeSettings(doc, plan: .growth).account
        #expect(a == AccountSettings(enabled: false, mode: .dual, format: .wav, mp3BitrateKbps: 64, retentionDays: 45,
                                     startPoint: .connect, beep: true, timeZone: "Asia/Singapore", region: .apSoutheast1, pauses: .skip))
    }
}

struct FlowNameTests {
    @Test(arguments: ["a/b", "..", "", ".hidden", "-x", "sales team", "ventas/..", String(repeating: "f", count: 65), "é"])
    func badFlowNameIsRefused(name: String) throws {
        let doc = JSONValue.object([("flows", .object([(name, .object([("override", .bool(true))]))]))]).compact()
        let v = try only(settingsViolations(doc, plan: .growth), at: "flows.\(name)")
        #expect(v.reason.contains("flow name"))
    }

    @Test(arguments: ["sales", "Sales-2", "a", "v1.2_beta", String(repeating: "f", count: 64)])
    func goodFlowNameIsAccepted(name: String) throws {
        let doc = JSONValue.object([("flows", .object([(name, .object([("enabled", .bool(false))]))]))]).compact()
        let s = try decodeSettings(doc, plan: .growth)
        #expect(s.flows == [name: FlowOverride(override: true, enabled: false, mode: nil)])
    }
}

struct RetentionRuleValidationTests {
    @Test(arguments: [Plan.starter, .growth])
    func selectiveRetentionIsEnterpriseOnly(plan: Plan) throws {
        let doc = #"{"retention": {"rules": [{"outcome": "disputed", "days": 30}]}}"#
        let v = try only(settingsViolations(doc, plan: plan), at: "retention.rules")
        #expect(v.reason.contains("Enterprise"))
        #expect(v.reason.contains(plan.displayName))
    }

    @Test(arguments: [Plan.starter, .growth])
    func emptyRulesAreFineOnEveryPlan(plan: Plan) throws {
        #expect(try decodeSettings(#"{"retention": {"rules": []}}"#, plan: plan).retention.rules.isEmpty)
    }

    @Test func ruleWithBothFlowAndOutcomeIsRefused() throws {
        let doc = #"{"retention": {"rules": [{"flow": "sales", "outcome": "disputed", "days": 365}]}}"#
        let v = try only(settingsViolations(doc, plan: .enterprise), at: "retention.rules[0]")
        #expect(v.reason.contains("not both"))
    }

    @Test func ruleWithNeitherFlowNorOutcomeIsRefused() throws {
        let doc = #"{"retention": {"rules": [{"flow": "sales", "days": 100}, {"days": 365}]}}"#
        _ = try only(settingsViolations(doc, plan: .enterprise), at: "retention.rules[1]")
    }

    @Test(arguments: [6, 3651, 0])
    func ruleDaysOutsideThePlanRangeAreRefused(days: Int) throws {
        let doc = #"{"retention": {"rules": [{"outcome": "disputed", "days": \#(days)}]}}"#
        let v = try only(settingsViolations(doc, plan: .enterprise), at: "retention.rules[0].days")
        #expect(v.reason.contains("Enterprise's range 7–3650"))
    }

    @Test func ruleWithoutDaysIsRefused() throws {
        let v = try only(settingsViolations(#"{"retention": {"rules": [{"flow": "sales"}]}}"#, plan: .enterprise),
                         at: "retention.rules[0].days")
        #expect(v.reason == "required")
    }

    @Test func ruleWithABadFlowOrOutcomeNameIsRefused() {
        let doc = #"{"retention": {"rules": [{"flow": "a/b", "days": 30}, {"outcome": "..", "days": 30}]}}"#
        #expect(paths(settingsViolations(doc, plan: .enterprise)) == ["retention.rules[0].flow", "retention.rules[1].outcome"])
    }

    @Test func validRulesKeepTheirOrder() throws {
        let doc = #"{"retention": {"rules": [{"flow": "sales", "days": 180}, {"outcome": "disputed", "days": 3650}, {"flow": "support", "days": 7}]}}"#
        let rules = try decodeSettings(doc, plan: .enterprise).retention.rules
        #expect(rules == [RetentionRule(.flow("sales"), days: 180), RetentionRule(.outcome("disputed"), days: 3650),
                          RetentionRule(.flow("support"), days: 7)])
    }
}

struct AccessValidationTests {
    @Test func memberOfAnUnknownRoleIsRefused() throws {
        let doc = #"{"access": {"roles": {"admin": {"recordings": "read", "settings": "write"}}, "members": [{"user": "root", "role": "admin"}, {"user": "asha", "role": "auditor"}]}}"#
        let v = try only(settingsViolations(doc, plan: .growth), at: "access.members[1].role")
        #expect(v.reason.contains("auditor"))
    }

    @Test func duplicateMemberIsRefused() throws {
        let doc = #"{"access": {"members": [{"user": "asha", "role": "admin"}, {"user": "root", "role": "admin"}, {"user": "asha", "role": "analyst"}]}}"#
        let v = try only(settingsViolations(doc, plan: .growth), at: "access.members[2].user")
        #expect(v.reason.contains("asha"))
    }

    @Test(arguments: ["", "-rf", "uid:", "uid:abc", "uid:-1", "a b", "root@host"])
    func badUserIsRefused(user: String) throws {
        let doc = JSONValue.object([("access", .object([("members", .array([
            .object([("user", .string(user)), ("role", .string("admin"))]),
        ]))]))]).compact()
        _ = try only(settingsViolations(doc, plan: .growth), at: "access.members[0].user")
    }

    @Test(arguments: ["root", "uid:1000", "asha.k", "svc_speech-1"])
    func goodUserIsAccepted(user: String) throws {
        let doc = JSONValue.object([("access", .object([("members", .array([
            .object([("user", .string(user)), ("role", .string("analyst"))]),
        ]))]))]).compact()
        #expect(try decodeSettings(doc, plan: .growth).access.members == [Member(user: user, role: "analyst")])
    }

    @Test func memberWithoutUserOrRoleIsRefused() {
        let doc = #"{"access": {"members": [{"role": "admin"}, {"user": "asha"}]}}"#
        #expect(paths(settingsViolations(doc, plan: .growth)) == ["access.members[0].user", "access.members[1].role"])
    }

    @Test func roleNeedsRecordingsAndSettingsAccess() {
        let doc = #"{"access": {"roles": {"admin": {"recordings": "read", "settings": "write"}, "viewer": {"flows": ["sales"]}}, "members": []}}"#
        #expect(paths(settingsViolations(doc, plan: .growth)) == ["access.roles.viewer.recordings", "access.roles.viewer.settings"])
    }

    @Test func roleWithBadFlowsIsRefused() {
        let doc = #"{"access": {"roles": {"auditor": {"recordings": "read", "settings": "none", "flows": ["sales", "a/b", 3, "*"]}}, "members": []}}"#
        #expect(paths(settingsViolations(doc, plan: .growth)) == ["access.roles.auditor.flows[1]", "access.roles.auditor.flows[2]"])
    }

    @Test(arguments: [Plan.starter, .growth])
    func deletingSingleRecordingsIsEnterpriseOnly(plan: Plan) throws {
        let doc = #"{"access": {"roles": {"admin": {"recordings": "read", "settings": "write", "deleteRecordings": true}}, "members": [{"user": "root", "role": "admin"}]}}"#
        let v = try only(settingsViolations(doc, plan: plan), at: "access.roles.admin.deleteRecordings")
        #expect(v.reason.contains("Enterprise"))
        #expect(v.reason.contains(plan.displayName))
    }

    @Test func enterpriseRoleMayDeleteSingleRecordings() throws {
        let doc = #"{"access": {"roles": {"admin": {"recordings": "read", "settings": "write", "deleteRecordings": true}}, "members": [{"user": "root", "role": "admin"}]}}"#
        #expect(try decodeSettings(doc, plan: .enterprise).access.roles["admin"]?.deleteRecordings == true)
    }

    @Test(arguments: Plan.allCases)
    func newAccountMayDeleteRecordingsOnlyWhereThePlanAllows(plan: Plan) {
        let roles = RecordingSettings.defaults(plan: plan, region: .apSouth1).access.roles
        #expect(roles.values.contains { $0.deleteRecordings } == plan.allowsRecordingDeletion)
    }

    @Test(arguments: ["10.0.0.1/8", "300.1.1.1", "abc", "10.0.0.0/33", "2001:db8::1/32", "", "1.2.3.4/", "::/129", "10.0.0.0/-1"])
    func badNetworkIsRefused(text: String) throws {
        let doc = #"{"access": {"ipAllowList": ["203.0.113.0/24", "\#(text)"]}}"#
        let v = try only(settingsViolations(doc, plan: .growth), at: "access.ipAllowList[1]")
        #expect(v.reason.contains("CIDR"))
    }

    @Test func goodNetworksAreKeptInOrder() throws {
        let doc = #"{"access": {"ipAllowList": ["203.0.113.0/24", "198.51.100.7", "2001:db8::/32", "0.0.0.0/0"]}}"#
        let list = try decodeSettings(doc, plan: .growth).access.ipAllowList
        #expect(list.map(\.prefixLength) == [24, 32, 32, 0])
        #expect(list.map { $0.network.isV4 } == [true, true, false, true])
    }

    @Test(arguments: [0, 169, -1, 1000])
    func downloadURLLifetimeOutsideOneToOneHundredSixtyEightHoursIsRefused(hours: Int) throws {
        let v = try only(settingsViolations(#"{"access": {"downloadUrlTtlHours": \#(hours)}}"#, plan: .starter),
                         at: "access.downloadUrlTtlHours")
        #expect(v.reason.contains("1–168"))
    }

    @Test(arguments: [1, 24, 168])
    func downloadURLLifetimeInsideTheRangeIsAccepted(hours: Int) throws {
        #expect(try decodeSettings(#"{"access": {"downloadUrlTtlHours": \#(hours)}}"#, plan: .starter).access.downloadUrlTtlHours == hours)
    }
}

struct ReadOnlyFieldTests {
    @Test func changedPlanIsRefused() throws {
        let v = try only(settingsViolations(#"{"plan": "enterprise"}"#, plan: .growth), at: "plan")
        #expect(v.reason.contains("read-only"))
        #expect(v.reason.contains("Growth"))
    }

    @Test func changedAccountSidIsRefused() throws {
        let v = try only(settingsViolations(#"{"accountSid": "ACother"}"#, plan: .growth), at: "accountSid")
        #expect(v.reason.contains("read-only"))
        #expect(v.reason.contains(testAccountSid))
    }

    @Test func changedLimitsAreRefused() throws {
        var limits = Plan.starter.limitsJSON
        limits = limits.setting("dualChannel", .bool(true))
        let doc = JSONValue.object([("limits", limits)]).compact()
        let v = try only(settingsViolations(doc, plan: .starter), at: "limits")
        #expect(v.reason.contains("read-only"))
    }

    @Test func limitsOfAnotherPlanAreRefused() throws {
        let doc = JSONValue.object([("limits", Plan.enterprise.limitsJSON)]).compact()
        _ = try only(settingsViolations(doc, plan: .starter), at: "limits")
    }

    @Test(arguments: Plan.allCases)
    func unchangedReadOnlyFieldsAreAccepted(plan: Plan) throws {
        let doc = JSONValue.object([
            ("accountSid", .string(testAccountSid)), ("plan", .string(plan.rawValue)), ("limits", plan.limitsJSON),
        ]).compact()
        #expect(try decodeSettings(doc, plan: plan) == .defaults(plan: plan, region: .apSouth1))
    }
}

struct SyntaxErrorTests {
    @Test func syntaxErrorIsReportedWithLineAndColumn() throws {
        let doc = "{\n  \"account\": {\n    \"beep\": tru\n  }\n}\n"
        let violations = settingsViolations(doc, plan: .starter)
        let v = try #require(violations.first)
        #expect(violations.count == 1)
        #expect(v.path == "")
        #expect(v.reason.contains("line 3, column 13"), "reason: \(v.reason)")
    }

    @Test func duplicateKeyIsReportedWithLineAndColumn() throws {
        let doc = "{\n  \"account\": {\"beep\": true,\n    \"beep\": false}\n}\n"
        let violations = settingsViolations(doc, plan: .starter)
        let v = try #require(violations.first)
        #expect(violations.count == 1)
        #expect(v.reason.contains("duplicate"))
        #expect(v.reason.contains("\"beep\""))
        #expect(v.reason.contains("line 3, column 5"), "reason: \(v.reason)")
    }

    @Test(arguments: ["", "{", "{\"account\": {}", "{}}", "{'account': {}}", "{\"flows\": {},}", "nul"])
    func notJSONIsRefused(doc: String) {
        let violations = settingsViolations(doc, plan: .starter)
        #expect(violations.count == 1)
        #expect(violations.first?.reason.contains("not valid JSON at line") == true)
    }
}

struct ManyProblemsTests {
    @Test func everyViolationIsReportedAtOnce() {
        let doc = #"""
        {
          "plan": "enterprise",
          "account": {"retentionDays": 120, "mode": "dual", "beep": 1, "colour": "red", "timeZone": "Mars/Olympus"},
          "flows": {"a/b": {"override": true}, "sales": {"mode": "dual", "volume": 3}},
          "retention": {"rules": [{"flow": "sales", "outcome": "x", "days": 30}]},
          "access": {"members": [{"user": "root", "role": "admin"}, {"user": "root", "role": "ghost"}],
                     "ipAllowList": ["10.0.0.1/8"], "downloadUrlTtlHours": 0},
          "storage": {"kind": "sftp", "host": "h", "user": "u", "privateKeyFile": "/k",
                      "hostKeySha256": "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
        }
        """#
        let found = Set(paths(settingsViolations(doc, plan: .starter)))
        let expected: Set<String> = [
            "plan", "account.retentionDays", "account.mode", "account.beep", "account.colour", "account.timeZone",
            "flows.a/b", "flows.sales.mode", "flows.sales.volume", "retention.rules", "retention.rules[0]",
            "access.members[1].user", "access.members[1].role", "access.ipAllowList[0]", "access.downloadUrlTtlHours",
            "storage.kind",
        ]
        #expect(found == expected)
    }

    @Test func descriptionListsEveryProblem() {
        do {
            _ = try decodeSettings(#"{"account": {"beep": 1, "enabled": 0}}"#, plan: .starter)
            Issue.record("accepted a document with two problems")
        } catch {
            #expect(error.violations.count == 2)
            #expect(error.description.hasPrefix("settings refused (2 problems):"))
            #expect(error.description.contains("account.beep: "))
            #expect(error.description.contains("account.enabled: "))
        }
    }
}

struct FixtureSettingsTests {
    @Test(arguments: Plan.allCases)
    func fixtureDecodesForItsOwnPlan(plan: Plan) throws {
        let bytes = try Fixtures.settingsDocument(plan)
        let s = try SettingsDocument.decode(bytes, plan: plan, accountSid: testAccountSid, current: .defaults(plan: plan, region: .apSouth1))
        #expect(s.account.retentionDays == plan.defaultRetentionDays)
        #expect(s.storage == .default)
        #expect(s.access.roles["admin"]?.settings == .write)
        #expect(s.access.members.first == Member(user: "root", role: "admin"))
    }

    @Test func enterpriseFixtureIsReadInFull() throws {
        let s = try SettingsDocument.decode(try Fixtures.settingsDocument(.enterprise), plan: .enterprise,
                                            accountSid: testAccountSid, current: .defaults(plan: .enterprise, region: .apSoutheast1))
        #expect(s.account == AccountSettings(enabled: true, mode: .single, format: .wav, mp3BitrateKbps: 128, retentionDays: 365,
                                             startPoint: .connect, beep: true, timeZone: "Asia/Kolkata", region: .apSouth1, pauses: .silence))
        #expect(s.flows == ["sales": FlowOverride(override: true, enabled: true, mode: .dual),
                            "collections": FlowOverride(override: true, enabled: false, mode: .single)])
        #expect(s.retention.rules == [RetentionRule(.flow("sales"), days: 180), RetentionRule(.outcome("disputed"), days: 365)])
        #expect(s.access.roles.keys.sorted() == ["admin", "analyst", "auditor"])
        #expect(s.access.roles["auditor"] == Role(recordings: .read, settings: .none, flows: ["collections"], deleteRecordings: false))
        #expect(s.access.members.map(\.user) == ["root", "asha", "vikram"])
        #expect(s.access.ipAllowList == [CIDR("203.0.113.0/24")!, CIDR("198.51.100.7/32")!])
        #expect(s.access.downloadUrlTtlHours == 4)
    }

    @Test func growthFixtureIsRefusedOnStarterForItsDualFlow() throws {
        let bytes = try Fixtures.settingsDocument(.growth)
        #expect(throws: InvalidDocument.self) {
            try SettingsDocument.decode(bytes, plan: .starter, accountSid: testAccountSid, current: .defaults(plan: .starter, region: .apSouth1))
        }
        let violations = settingsViolations(String(decoding: bytes, as: UTF8.self), plan: .starter)
        #expect(paths(violations) == ["flows.sales.mode"])
    }

    @Test func enterpriseFixtureIsRefusedOnGrowth() throws {
        let text = String(decoding: try Fixtures.settingsDocument(.enterprise), as: UTF8.self)
        let found = Set(paths(settingsViolations(text, plan: .growth)))
        #expect(found == ["account.retentionDays", "retention.rules", "retention.rules[1].days"])
    }

    @Test(arguments: Plan.allCases)
    func starterFixtureFitsEveryPlan(plan: Plan) throws {
        let text = String(decoding: try Fixtures.settingsDocument(.starter), as: UTF8.self)
        #expect(settingsViolations(text, plan: plan) == [])
    }
}

struct PartialDocumentTests {
    static func enterpriseCurrent() throws -> RecordingSettings {
        var s = try SettingsDocument.decode(try Fixtures.settingsDocument(.enterprise), plan: .enterprise,
                                            accountSid: testAccountSid, current: .defaults(plan: .enterprise, region: .apSouth1))
        s.storage = .s3(S3Target(bucket: "acme-recordings", region: "ap-south-1", endpoint: nil, accessKeyId: "AKIAEXAMPLE",
                                 secretAccessKey: "s3cr3t", serverSideEncryption: "AES256", kmsKeyId: nil, prefix: "calls/"))
        return s
    }

    @Test func emptyDocumentChangesNothing() throws {
        let current = try Self.enterpriseCurrent()
        #expect(try decodeSettings("{}", plan: .enterprise, current: current) == current)
    }

    @Test func omittedAccountFieldsKeepTheirValues() throws {
        let current = try Self.enterpriseCurrent()
        let s = try decodeSettings(#"{"account": {"beep": false, "retentionDays": 730}}"#, plan: .enterprise, current: current)
        var expected = current
        expected.account.beep = false
        expected.account.retentionDays = 730
        #expect(s == expected)
    }

    @Test func omittedSectionsKeepTheirValues() throws {
        let current = try Self.enterpriseCurrent()
        let s = try decodeSettings(#"{"flows": {"support": {"mode": "dual"}}}"#, plan: .enterprise, current: current)
        #expect(s.flows == ["support": FlowOverride(override: true, enabled: nil, mode: .dual)])
        #expect(s.account == current.account)
        #expect(s.retention == current.retention)
        #expect(s.access == current.access)
        #expect(s.storage == current.storage)
    }

    @Test func presentRulesReplaceTheWholeSet() throws {
        let current = try Self.enterpriseCurrent()
        let s = try decodeSettings(#"{"retention": {"rules": [{"flow": "support", "days": 60}]}}"#, plan: .enterprise, current: current)
        #expect(s.retention.rules == [RetentionRule(.flow("support"), days: 60)])
        #expect(s.flows == current.flows)
    }

    /// Documents decode accepts; what they decode to must pass the same plan's checks.
    @Test(arguments: [
        (Plan.growth, #"{"access": {"roles": {"analyst": {"recordings": "read", "settings": "read"}}, "members": [{"user": "asha", "role": "analyst"}]}}"#),
        (.enterprise, #"{"account": {"mode": "dual", "retentionDays": 3650}, "retention": {"rules": [{"outcome": "disputed", "days": 3650}]}}"#),
        (.starter, #"{"flows": {"sales": {"override": false, "enabled": false}}}"#),
    ])
    func acceptedSettingsPassTheirPlan(plan: Plan, document: String) throws {
        let s = try decodeSettings(document, plan: plan)
        #expect(SettingsDocument.planViolations(s, plan: plan) == [])
    }

    @Test func rolesWithoutMembersMustStillCoverEveryMember() throws {
        // Replacing the roles leaves the members (root → admin) in place, so admin must not vanish.
        let doc = #"{"access": {"roles": {"analyst": {"recordings": "read", "settings": "read"}}}}"#
        let violations = settingsViolations(doc, plan: .growth)
        #expect(!violations.isEmpty)
        #expect(violations.allSatisfy { $0.path.hasPrefix("access.") })
        #expect(violations.contains { $0.reason.contains("admin") }, "\(violations)")
    }

    @Test func omittedAccessFieldsKeepTheirValues() throws {
        let current = try Self.enterpriseCurrent()
        let s = try decodeSettings(#"{"access": {"downloadUrlTtlHours": 8}}"#, plan: .enterprise, current: current)
        #expect(s.access.downloadUrlTtlHours == 8)
        #expect(s.access.roles == current.access.roles)
        #expect(s.access.members == current.access.members)
        #expect(s.access.ipAllowList == current.access.ipAllowList)
    }

    @Test func newMembersMayHoldCurrentRoles() throws {
        let current = try Self.enterpriseCurrent()
        let s = try decodeSettings(#"{"access": {"members": [{"user": "meera", "role": "auditor"}]}}"#, plan: .enterprise, current: current)
        #expect(s.access.members == [Member(user: "meera", role: "auditor")])
        #expect(s.access.roles == current.access.roles)
    }

    @Test func omittedRetentionRulesKeepTheirValues() throws {
        let current = try Self.enterpriseCurrent()
        let s = try decodeSettings(#"{"retention": {}}"#, plan: .enterprise, current: current)
        #expect(s.retention == current.retention)
    }
}
