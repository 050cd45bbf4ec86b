// ResolutionTests: SettingsResolver.resolve, call > flow override > account, the plan's downgrades and retention rules.

import Testing
@testable import RecordingCore

private func settings(plan: Plan, account: (inout AccountSettings) -> Void = { _ in },
                      flows: [String: FlowOverride] = [:], rules: [RetentionRule] = []) -> RecordingSettings {
    var s = RecordingSettings.defaults(plan: plan, region: .apSouth1)
    account(&s.account)
    s.flows = flows
    s.retention = RetentionSettings(rules: rules)
    return s
}

struct EnabledPrecedenceTests {
    @Test func accountDecidesWhenNothingElseSays() {
        let s = settings(plan: .growth) { $0.enabled = false }
        let e = SettingsResolver.resolve(s, plan: .growth, call: CallRecordingRequest(flow: "sales", outcome: "completed"))
        #expect(e.enabled.value == false)
        #expect(e.enabled.layer == .account)
    }

    @Test func flowOverrideBeatsTheAccount() {
        let s = settings(plan: .growth, account: { $0.enabled = true }, flows: ["sales": FlowOverride(enabled: false)])
        let e = SettingsResolver.resolve(s, plan: .growth, call: CallRecordingRequest(flow: "sales", outcome: "completed"))
        #expect(e.enabled.value == false)
        #expect(e.enabled.layer == .flow)
        #expect(e.enabled.reason.contains("sales"))
    }

    @Test(arguments: [true, false])
    func callBeatsFlowAndAccount(record: Bool) {
        let s = settings(plan: .growth, account: { $0.enabled = !record }, flows: ["sales": FlowOverride(enabled: !record)])
        let e = SettingsResolver.resolve(s, plan: .growth, call: CallRecordingRequest(flow: "sales", outcome: "completed", record: record))
        #expect(e.enabled.value == record)
        #expect(e.enabled.layer == .call)
    }

    @Test func flowOverrideThatIsSwitchedOffIsIgnored() {
        let s = settings(plan: .growth, account: { $0.enabled = true },
                         flows: ["sales": FlowOverride(override: false, enabled: false, mode: .dual)])
        let e = SettingsResolver.resolve(s, plan: .growth, call: CallRecordingRequest(flow: "sales", outcome: "completed"))
        #expect(e.enabled == Decided(true, .account, e.enabled.reason))
        #expect(e.mode.value == .single)
        #expect(e.mode.layer == .account)
    }

    @Test func overrideOfAnotherFlowDoesNotApply() {
        let s = settings(plan: .growth, flows: ["support": FlowOverride(enabled: false, mode: .dual)])
        let e = SettingsResolver.resolve(s, plan: .growth, call: CallRecordingRequest(flow: "sales", outcome: "completed"))
        #expect(e.enabled.layer == .account)
        #expect(e.mode.layer == .account)
    }

    @Test func flowOverrideWithoutEnabledInheritsIt() {
        let s = settings(plan: .growth, account: { $0.enabled = false }, flows: ["sales": FlowOverride(mode: .dual)])
        let e = SettingsResolver.resolve(s, plan: .growth, call: CallRecordingRequest(flow: "sales", outcome: "completed"))
        #expect(e.enabled.value == false)
        #expect(e.enabled.layer == .account)
        #expect(e.mode.layer == .flow)
    }
}

struct ModePrecedenceTests {
    @Test func accountModeWhenNothingElseSays() {
        let s = settings(plan: .enterprise) { $0.mode = .dual }
        let e = SettingsResolver.resolve(s, plan: .enterprise, call: CallRecordingRequest(flow: "sales", outcome: "completed"))
        #expect(e.mode.value == .dual)
        #expect(e.mode.layer == .account)
    }

    @Test func flowModeBeatsTheAccount() {
        let s = settings(plan: .growth, account: { $0.mode = .single }, flows: ["sales": FlowOverride(mode: .dual)])
        let e = SettingsResolver.resolve(s, plan: .growth, call: CallRecordingRequest(flow: "sales", outcome: "completed"))
        #expect(e.mode.value == .dual)
        #expect(e.mode.layer == .flow)
    }

    @Test(arguments: [(RequestedChannels.mono, RecordingMode.single), (.single, .single), (.dual, .dual)])
    func callChannelsBeatFlowAndAccount(channels: RequestedChannels, expected: RecordingMode) {
        let opposite: RecordingMode = expected == .dual ? .single : .dual
        let s = settings(plan: .enterprise, account: { $0.mode = opposite }, flows: ["sales": FlowOverride(mode: opposite)])
        let e = SettingsResolver.resolve(s, plan: .enterprise, call: CallRecordingRequest(flow: "sales", outcome: "completed", channels: channels))
        #expect(e.mode.value == expected)
        #expect(e.mode.layer == .call)
        #expect(e.downgrades.isEmpty)
    }

    @Test func monoAndSingleMeanTheSame() {
        #expect(RequestedChannels.mono.mode == .single)
        #expect(RequestedChannels.single.mode == .single)
        #expect(RequestedChannels.dual.mode == .dual)
    }
}

struct DualDowngradeTests {
    /// Each way dual can be asked for on Starter.
    static let askers: [(String, RecordingSettings, CallRecordingRequest)] = [
        ("call", settings(plan: .starter), CallRecordingRequest(flow: "sales", outcome: "completed", channels: .dual)),
        ("flow", settings(plan: .starter, flows: ["sales": FlowOverride(mode: .dual)]), CallRecordingRequest(flow: "sales", outcome: "completed")),
        ("account", settings(plan: .starter) { $0.mode = .dual }, CallRecordingRequest(flow: "sales", outcome: "completed")),
    ]

    @Test(arguments: DualDowngradeTests.askers)
    func dualOnStarterIsRecordedSingleAndSaysWhy(asker: String, s: RecordingSettings, call: CallRecordingRequest) throws {
        let e = SettingsResolver.resolve(s, plan: .starter, call: call)
        #expect(e.mode.value == .single)
        #expect(e.mode.layer == .plan)
        #expect(e.mode.reason.contains("Starter"))
        #expect(e.downgrades.count == 1)
        let downgrade = try #require(e.downgrades.first)
        #expect(downgrade.contains("Starter"))
        #expect(downgrade.contains("dual"))
        #expect(e.mode.reason == downgrade)
        // Single-channel recordings use the account's format (mp3 by default), not the dual WAV.
        #expect(e.format.value == s.account.format)
        #expect(e.json["downgrades"] == .array([.string(downgrade)]))
    }

    @Test func singleOnStarterHasNoDowngrade() {
        let e = SettingsResolver.resolve(settings(plan: .starter), plan: .starter,
                                         call: CallRecordingRequest(flow: "sales", outcome: "completed", channels: .single))
        #expect(e.mode.value == .single)
        #expect(e.downgrades.isEmpty)
    }

    @Test(arguments: [Plan.growth, .enterprise])
    func dualIsKeptOnGrowthAndEnterprise(plan: Plan) {
        let e = SettingsResolver.resolve(settings(plan: plan), plan: plan,
                                         call: CallRecordingRequest(flow: "sales", outcome: "completed", channels: .dual))
        #expect(e.mode.value == .dual)
        #expect(e.downgrades.isEmpty)
    }

    @Test(arguments: [RequestedChannels.dual, nil])
    func dualForcesWAV(channels: RequestedChannels?) {
        let s = settings(plan: .growth, account: { $0.format = .mp3 }, flows: ["sales": FlowOverride(mode: .dual)])
        let e = SettingsResolver.resolve(s, plan: .growth, call: CallRecordingRequest(flow: "sales", outcome: "completed", channels: channels))
        #expect(e.mode.value == .dual)
        #expect(e.format.value == .wav)
    }

    @Test(arguments: AudioFormat.allCases)
    func singleUsesTheAccountFormat(format: AudioFormat) {
        let s = settings(plan: .growth) { $0.format = format }
        let e = SettingsResolver.resolve(s, plan: .growth, call: CallRecordingRequest(flow: "sales", outcome: "completed", channels: .mono))
        #expect(e.format.value == format)
        #expect(e.format.layer == .account)
    }

    @Test func fixtureCallAskingDualOnStarterIsDowngraded() throws {
        // Manifest row 9: CA433cad… asks for dual on the Starter account ACstarter.
        let call = try CallDescription.decode(try Fixtures.bytes("calls/CA433cad4c198702fec2f19d6df902b53b.json"))
        let s = try SettingsDocument.decode(try Fixtures.settingsDocument(.starter), plan: .starter, accountSid: call.account,
                                            current: .defaults(plan: .starter, region: .apSouth1))
        let e = SettingsResolver.resolve(s, plan: .starter, call: call.request)
        #expect(call.recordingChannels == .dual)
        #expect(e.mode.value == .single)
        #expect(e.mode.layer == .plan)
        #expect(e.downgrades.count == 1)
    }
}

struct RetentionResolutionTests {
    @Test func accountDaysWithoutRules() {
        let s = settings(plan: .enterprise) { $0.retentionDays = 400 }
        let d = RetentionPolicy.days(s, plan: .enterprise, flow: "sales", outcome: "completed")
        #expect(d.value == 400)
        #expect(d.layer == .account)
    }

    @Test func accountDaysWhenNoRuleMatches() {
        let s = settings(plan: .enterprise, account: { $0.retentionDays = 400 },
                         rules: [RetentionRule(.flow("support"), days: 900), RetentionRule(.outcome("disputed"), days: 1000)])
        let d = RetentionPolicy.days(s, plan: .enterprise, flow: "sales", outcome: "completed")
        #expect(d.value == 400)
        #expect(d.layer == .account)
    }

    @Test func matchingRuleBeatsTheAccountEvenWhenShorter() {
        let s = settings(plan: .enterprise, account: { $0.retentionDays = 365 }, rules: [RetentionRule(.flow("sales"), days: 30)])
        let d = RetentionPolicy.days(s, plan: .enterprise, flow: "sales", outcome: "completed")
        #expect(d.value == 30)
        #expect(d.layer == .retentionRule)
    }

    @Test(arguments: [(180, 365, 365), (400, 365, 400), (90, 90, 90)])
    func longestMatchingRuleWins(flowDays: Int, outcomeDays: Int, expected: Int) {
        for order in [false, true] {
            let rules = [RetentionRule(.flow("sales"), days: flowDays), RetentionRule(.outcome("disputed"), days: outcomeDays),
                         RetentionRule(.flow("support"), days: 3650)]
            let s = settings(plan: .enterprise, account: { $0.retentionDays = 30 }, rules: order ? rules.reversed() : rules)
            let d = RetentionPolicy.days(s, plan: .enterprise, flow: "sales", outcome: "disputed")
            #expect(d.value == expected)
            #expect(d.layer == .retentionRule)
            #expect(d.reason.contains("longest"))
        }
    }

    @Test(arguments: [Plan.starter, .growth])
    func rulesAreIgnoredOffEnterprise(plan: Plan) {
        let s = settings(plan: plan, rules: [RetentionRule(.outcome("disputed"), days: 365), RetentionRule(.flow("sales"), days: 180)])
        let d = RetentionPolicy.days(s, plan: plan, flow: "sales", outcome: "disputed")
        #expect(d.value == plan.defaultRetentionDays)
        #expect(d.layer == .account)
        #expect(d.reason.contains("Enterprise"))
    }

    @Test func resolveUsesTheRetentionPolicy() throws {
        let s = try SettingsRoundTripTests.fixtureSettings(.enterprise)
        let disputed = SettingsResolver.resolve(s, plan: .enterprise, call: CallRecordingRequest(flow: "collections", outcome: "disputed"))
        #expect(disputed.retentionDays.value == 365)
        let sales = SettingsResolver.resolve(s, plan: .enterprise, call: CallRecordingRequest(flow: "sales", outcome: "completed"))
        #expect(sales.retentionDays == Decided(180, .retentionRule, sales.retentionDays.reason))
        let support = SettingsResolver.resolve(s, plan: .enterprise, call: CallRecordingRequest(flow: "support", outcome: "completed"))
        #expect(support.retentionDays.value == 365)
        #expect(support.retentionDays.layer == .account)
    }
}

struct EffectiveSettingsTests {
    @Test func accountOnlyFieldsComeFromTheAccount() throws {
        let s = try SettingsRoundTripTests.fixtureSettings(.enterprise)
        let e = SettingsResolver.resolve(s, plan: .enterprise, call: CallRecordingRequest(flow: "collections", outcome: "completed"))
        #expect(e.enabled == Decided(false, .flow, e.enabled.reason))
        #expect(e.startPoint == .connect)
        #expect(e.beep == true)
        #expect(e.timeZone == "Asia/Kolkata")
        #expect(e.region == .apSouth1)
        #expect(e.mp3BitrateKbps == 128)
        #expect(e.pauses == .silence)
    }

    @Test func jsonNamesEachDecidedLayer() {
        let s = settings(plan: .growth, flows: ["sales": FlowOverride(mode: .dual)])
        let e = SettingsResolver.resolve(s, plan: .growth, call: CallRecordingRequest(flow: "sales", outcome: "completed", record: true))
        let json = e.json
        #expect(json["enabled"]?["layer"] == .string("call"))
        #expect(json["enabled"]?["value"] == .bool(true))
        #expect(json["mode"]?["layer"] == .string("flow"))
        #expect(json["mode"]?["value"] == .string("dual"))
        #expect(json["format"]?["value"] == .string("wav"))
        #expect(json["retentionDays"]?["value"] == .int(90))
        #expect(json["downgrades"] == .array([]))
    }
}
