// SettingsFileTests: the `.settings/` files' documents, read back and written, through the same
// rules as the whole settings document.

import Testing
@testable import RecordingCore

@Suite struct SettingsFileTests {
    let growth: RecordingSettings
    let enterprise: RecordingSettings

    init() throws {
        growth = try SettingsDocument.decode(try Fixtures.settingsDocument(.growth), plan: .growth, accountSid: "ACdemo",
                                             current: .defaults(plan: .growth, region: .apSouth1))
        enterprise = try SettingsDocument.decode(try Fixtures.settingsDocument(.enterprise), plan: .enterprise, accountSid: "ACdemo",
                                                 current: .defaults(plan: .enterprise, region: .apSouth1))
    }

    func text(_ file: SettingsFile, _ s: RecordingSettings, _ plan: Plan) -> String {
        String(decoding: file.text(s, accountSid: "ACdemo", plan: plan), as: UTF8.self)
    }

    func decode(_ file: SettingsFile, _ text: String, _ s: RecordingSettings, _ plan: Plan) throws(InvalidDocument) -> RecordingSettings {
        try file.decode(Array(text.utf8), plan: plan, accountSid: "ACdemo", current: s)
    }

    func refusal(_ file: SettingsFile, _ text: String, _ s: RecordingSettings, _ plan: Plan) -> [String] {
        do {
            _ = try decode(file, text, s, plan)
            return []
        } catch {
            return error.violations.map(\.description)
        }
    }

    @Test func namesAreKnownOrScratch() {
        #expect(SettingsFile(name: "account.json") == .account)
        #expect(SettingsFile(name: "storage.json") == .storage)
        #expect(SettingsFile(name: "flows") == nil)
        #expect(SettingsFile(flowFileName: "sales.json") == .flow("sales"))
        #expect(SettingsFile(flowFileName: "sales.json.swp") == nil)
        #expect(SettingsFile(flowFileName: ".sales.json") == nil)
        // Scratch names (no .json) are fine; a .json that is no settings file is refused.
        #expect(SettingsFile.nameProblem("sedAb12Cd", inFlows: false) == nil)
        #expect(SettingsFile.nameProblem("account.json~", inFlows: false) == nil)
        #expect(SettingsFile.nameProblem("4913", inFlows: true) == nil)
        #expect(SettingsFile.nameProblem("acount.json", inFlows: false)?.contains("not a settings file") == true)
        #expect(SettingsFile.nameProblem("bad name.json", inFlows: true)?.contains("not a flow file") == true)
        #expect(SettingsFile.flow("sales").path == "flows/sales.json")
    }

    @Test func everyFileReadsBackUnchanged() throws {
        for (s, plan) in [(growth, Plan.growth), (enterprise, .enterprise)] {
            for file in SettingsFile.fixed + s.flows.keys.map({ .flow($0) }) {
                let t = text(file, s, plan)
                #expect(t.hasSuffix("}\n"))
                #expect(try decode(file, t, s, plan) == s, "\(file) as read writes back as no change")
            }
        }
    }

    @Test func documentsShowTheirPartAndThePlan() throws {
        let account = try JSONValue.parse(text(.account, growth, .growth))
        guard case let .object(members) = account else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["accountSid", "plan", "account", "limits"])
        #expect(account["limits"] == Plan.growth.limitsJSON)
        let flow = try JSONValue.parse(text(.flow("sales"), growth, .growth))
        #expect(flow["flow"] == .string("sales"))
        #expect(flow["mode"] == .string("dual"))
        #expect(flow["limits"] == Plan.growth.limitsJSON)
    }

    @Test func storageSecretsAreMaskedAndKept() throws {
        let s3 = """
            {"storage": {"kind": "s3", "bucket": "calls", "region": "ap-south-1", "accessKeyId": "AKIA1",
             "secretAccessKey": "s3cr3t", "serverSideEncryption": "AES256"}}
            """
        let set = try decode(.storage, s3, enterprise, .enterprise)
        let shown = text(.storage, set, .enterprise)
        #expect(!shown.contains("s3cr3t"))
        #expect(shown.contains(StorageSettings.secretMask))
        // Writing back the masked file keeps the stored secret.
        #expect(try decode(.storage, shown, set, .enterprise) == set)
        guard case let .s3(target) = set.storage else { Issue.record("not s3"); return }
        #expect(target.secretAccessKey == "s3cr3t")
    }

    @Test func changesApplyThroughTheirFile() throws {
        let s = try decode(.account, #"{"account": {"retentionDays": 30, "beep": true}}"#, growth, .growth)
        #expect(s.account.retentionDays == 30 && s.account.beep)
        #expect(s.flows == growth.flows)
        let added = try decode(.flow("support"), #"{"override": true, "mode": "dual"}"#, growth, .growth)
        #expect(added.flows["support"] == FlowOverride(override: true, enabled: nil, mode: .dual))
        #expect(added.flows["sales"] == growth.flows["sales"])
        #expect(SettingsFile.flow("support").removed(from: added) == growth)
    }

    @Test func refusalsNameFieldsAsTheFileShowsThem() {
        #expect(refusal(.account, #"{"account": {"mode": "dual"}}"#, .defaults(plan: .starter, region: .apSouth1), .starter)
            == ["account.mode: dual-channel recording is available on the Growth and Enterprise plans; this account is on Starter"])
        #expect(refusal(.flow("sales"), #"{"mode": "stereo"}"#, growth, .growth) == [#"mode: "stereo" is not one of single, dual"#])
        #expect(refusal(.flow("sales"), #"{"flow": "support", "mode": "dual"}"#, growth, .growth).first?.hasPrefix("flow: read-only") == true)
        #expect(refusal(.account, #"{"account": {"retentionDays": 400}}"#, growth, .growth)
            == ["account.retentionDays: 400 is outside Growth's range 7–180"])
        #expect(refusal(.retention, #"{"retention": {"rules": [{"flow": "sales", "days": 30}]}}"#, growth, .growth).first?
            .contains("Enterprise plan only") == true)
        #expect(refusal(.storage, #"{"storage": {"kind": "s3"}}"#, growth, .growth).contains { $0.contains("Enterprise") })
        #expect(refusal(.account, #"{"flows": {}}"#, growth, .growth) == ["flows: not part of account.json; it belongs in flows/FLOW.json (one file per flow)"])
        #expect(refusal(.account, #"{"plan": "enterprise"}"#, growth, .growth).first?.hasPrefix("plan: read-only") == true)
        #expect(refusal(.account, "", growth, .growth).first?.contains("empty") == true)
        #expect(refusal(.account, "[1]", growth, .growth) == ["expected an object, got an array"])
        #expect(refusal(.account, #"{"account": {"beep": tru"#, growth, .growth).first?.hasPrefix("not valid JSON at line 1") == true)
    }
}
