// SettingsRoundTripTests: SettingsDocument.json → prettyPrinted → decode gives the same settings, printed the same way every time.

import Testing
@testable import RecordingCore

struct SettingsRoundTripTests {
    static func fixtureSettings(_ plan: Plan) throws -> RecordingSettings {
        try SettingsDocument.decode(try Fixtures.settingsDocument(plan), plan: plan, accountSid: testAccountSid,
                                    current: .defaults(plan: plan, region: .apSoutheast1))
    }

    static func printed(_ s: RecordingSettings, _ plan: Plan) -> String {
        SettingsDocument.json(s, accountSid: testAccountSid, plan: plan).prettyPrinted()
    }

    @Test(arguments: Plan.allCases)
    func fixtureRoundTripsToEqualSettings(plan: Plan) throws {
        let s = try Self.fixtureSettings(plan)
        // Decoded over another plan's defaults, so every value must come from the printed text.
        let other = RecordingSettings.defaults(plan: plan, region: .apSoutheast1)
        let back = try SettingsDocument.decode(Array(Self.printed(s, plan).utf8), plan: plan, accountSid: testAccountSid, current: other)
        #expect(back == s)
    }

    @Test(arguments: Plan.allCases)
    func printingIsStable(plan: Plan) throws {
        let s = try Self.fixtureSettings(plan)
        let first = Self.printed(s, plan)
        #expect(Self.printed(s, plan) == first)
        #expect(Self.printed(try Self.fixtureSettings(plan), plan) == first)
        let back = try decodeSettings(first, plan: plan, current: .defaults(plan: plan, region: .apSouth1))
        #expect(Self.printed(back, plan) == first)
    }

    @Test func topLevelAndAccountKeysComeInAFixedOrder() throws {
        let doc = SettingsDocument.json(try Self.fixtureSettings(.enterprise), accountSid: testAccountSid, plan: .enterprise)
        guard case let .object(top) = doc, case let .object(account)? = doc["account"] else {
            Issue.record("not an object"); return
        }
        #expect(top.map(\.key) == ["accountSid", "plan", "account", "flows", "retention", "access", "storage", "limits"])
        #expect(account.map(\.key) == ["enabled", "mode", "format", "mp3BitrateKbps", "retentionDays", "startPoint", "beep",
                                       "timeZone", "region", "pauses"])
        #expect(doc["accountSid"] == .string(testAccountSid))
        #expect(doc["plan"] == .string("enterprise"))
        #expect(doc["limits"] == Plan.enterprise.limitsJSON)
    }

    @Test func flowsAndRolesPrintSortedByName() throws {
        var s = RecordingSettings.defaults(plan: .growth, region: .apSouth1)
        for name in ["zeta", "alpha", "mid", "Beta", "0night"] { s.flows[name] = FlowOverride(enabled: false) }
        s.access.roles["zz"] = Role(recordings: .none, settings: .read)
        s.access.roles["aa"] = Role(recordings: .read, settings: .none, flows: ["alpha"])
        let doc = SettingsDocument.json(s, accountSid: testAccountSid, plan: .growth)
        guard case let .object(flows)? = doc["flows"], case let .object(roles)? = doc["access"]?["roles"] else {
            Issue.record("not objects"); return
        }
        #expect(flows.map(\.key) == ["0night", "Beta", "alpha", "mid", "zeta"])
        #expect(roles.map(\.key) == ["aa", "admin", "analyst", "zz"])
    }

    @Test func everyKindOfSettingRoundTrips() throws {
        var s = RecordingSettings.defaults(plan: .enterprise, region: .apSoutheast1)
        s.account = AccountSettings(enabled: false, mode: .dual, format: .wav, mp3BitrateKbps: 320, retentionDays: 3650,
                                    startPoint: .connect, beep: true, timeZone: "UTC", region: .apSoutheast1, pauses: .skip)
        s.flows = ["sales": FlowOverride(override: false, enabled: true, mode: .single), "support": FlowOverride()]
        s.retention = RetentionSettings(rules: [RetentionRule(.outcome("disputed"), days: 3650), RetentionRule(.flow("sales"), days: 7)])
        s.access = AccessSettings(
            roles: ["admin": Role(recordings: .read, settings: .write, flows: ["*"], deleteRecordings: true),
                    "qa": Role(recordings: .read, settings: .none, flows: ["sales", "support"])],
            members: [Member(user: "root", role: "admin"), Member(user: "uid:1001", role: "qa")],
            ipAllowList: [CIDR("10.0.0.0/8")!, CIDR("2001:db8::/48")!, CIDR("::1")!],
            downloadUrlTtlHours: 168)
        s.storage = .s3(S3Target(bucket: "acme.rec-1", region: "ap-southeast-1", endpoint: "http://127.0.0.1:8333",
                                 accessKeyId: "AKIA", secretAccessKey: "secret\"with\\quotes\n", serverSideEncryption: "aws:kms",
                                 kmsKeyId: "alias/recordings", prefix: "a/b/"))
        let text = SettingsDocument.json(s, accountSid: testAccountSid, plan: .enterprise).prettyPrinted()
        #expect(try decodeSettings(text, plan: .enterprise, current: s) == s)

        s.storage = .sftp(SFTPTarget(host: "10.1.2.3", port: 2222, user: "rec", privateKeyFile: "/k", hostKeySha256: "SHA256:" + String(repeating: "x", count: 43), path: "in"))
        let sftpText = SettingsDocument.json(s, accountSid: testAccountSid, plan: .enterprise).prettyPrinted()
        #expect(try decodeSettings(sftpText, plan: .enterprise, current: .defaults(plan: .enterprise, region: .apSouth1)) == s)
    }

    @Test func printedDocumentIsIndentedAndEndsWithANewline() throws {
        let text = Self.printed(try Self.fixtureSettings(.starter), .starter)
        #expect(text.hasPrefix("{\n  \"accountSid\": \"\(testAccountSid)\",\n  \"plan\": \"starter\",\n  \"account\": {\n    \"enabled\": true,"))
        #expect(text.hasSuffix("\n}\n"))
        #expect(!text.contains("\t"))
    }
}
