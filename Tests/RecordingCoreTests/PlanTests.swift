// PlanTests: what each commercial plan allows (retention defaults and ranges, feature gates).

import Testing
@testable import RecordingCore

struct PlanTests {
    /// The acceptance list, row by row: plan, default days, range, dual, selective, custom storage, deletion.
    static let table: [(Plan, Int, ClosedRange<Int>, Bool, Bool, Bool, Bool)] = [
        (.starter, 30, 7...90, false, false, false, false),
        (.growth, 90, 7...180, true, false, false, false),
        (.enterprise, 365, 7...3650, true, true, true, true),
    ]

    @Test(arguments: PlanTests.table)
    func planAllowsWhatTheAcceptanceListSays(row: (Plan, Int, ClosedRange<Int>, Bool, Bool, Bool, Bool)) {
        let (plan, days, range, dual, selective, custom, deletion) = row
        #expect(plan.defaultRetentionDays == days)
        #expect(plan.retentionRange == range)
        #expect(plan.retentionRange.contains(plan.defaultRetentionDays))
        #expect(plan.allowsDualChannel == dual)
        #expect(plan.allowsSelectiveRetention == selective)
        #expect(plan.allowsCustomStorage == custom)
        #expect(plan.allowsRecordingDeletion == deletion)
    }

    @Test func everyPlanIsInTheTable() {
        #expect(Set(Plan.allCases) == Set(Self.table.map(\.0)))
    }

    @Test(arguments: [(Plan.starter, "Starter"), (.growth, "Growth"), (.enterprise, "Enterprise")])
    func displayNameIsCapitalised(plan: Plan, name: String) {
        #expect(plan.displayName == name)
    }

    @Test(arguments: Plan.allCases)
    func limitsJSONDescribesThePlan(plan: Plan) throws {
        let limits = plan.limitsJSON
        #expect(limits["plan"] == .string(plan.rawValue))
        let days = try #require(limits["retentionDays"])
        #expect(days["default"] == .int(plan.defaultRetentionDays))
        #expect(days["min"] == .int(plan.retentionRange.lowerBound))
        #expect(days["max"] == .int(plan.retentionRange.upperBound))
        #expect(limits["dualChannel"] == .bool(plan.allowsDualChannel))
        #expect(limits["selectiveRetention"] == .bool(plan.allowsSelectiveRetention))
        #expect(limits["customStorage"] == .bool(plan.allowsCustomStorage))
        #expect(limits["recordingDeletion"] == .bool(plan.allowsRecordingDeletion))
    }

    @Test(arguments: Plan.allCases, Region.allCases)
    func defaultsOfANewAccountFollowTheSeed(plan: Plan, region: Region) {
        let a = AccountSettings.defaults(plan: plan, region: region)
        #expect(a.enabled)
        #expect(a.mode == .single)
        #expect(a.format == .mp3)
        #expect(a.mp3BitrateKbps == 128)
        #expect(a.retentionDays == plan.defaultRetentionDays)
        #expect(a.startPoint == .answer)
        #expect(a.beep == false)
        #expect(a.region == region)
        #expect(AccessSettings.defaults(plan: plan).downloadUrlTtlHours == 24)
    }

    @Test(arguments: Plan.allCases)
    func defaultsOfANewAccountPassTheirOwnPlan(plan: Plan) {
        let s = RecordingSettings.defaults(plan: plan, region: .apSouth1)
        #expect(SettingsDocument.planViolations(s, plan: plan) == [])
    }

    @Test func regionsAreTheSeedsTwo() {
        #expect(Set(Region.allCases.map(\.rawValue)) == ["ap-south-1", "ap-southeast-1"])
    }

    @Test func downgradingAPlanReportsWhatNoLongerFits() {
        var s = RecordingSettings.defaults(plan: .enterprise, region: .apSouth1)
        s.account.retentionDays = 365
        s.flows = ["sales": FlowOverride(mode: .dual)]
        s.retention = RetentionSettings(rules: [RetentionRule(.outcome("disputed"), days: 365)])
        #expect(SettingsDocument.planViolations(s, plan: .enterprise) == [])

        let growth = Set(SettingsDocument.planViolations(s, plan: .growth).map(\.path))
        #expect(growth.contains("account.retentionDays"))
        #expect(growth.contains("retention.rules"))
        #expect(!growth.contains("flows.sales.mode"))

        let starter = Set(SettingsDocument.planViolations(s, plan: .starter).map(\.path))
        #expect(starter.contains("account.retentionDays"))
        #expect(starter.contains("flows.sales.mode"))
        #expect(starter.contains("retention.rules"))
    }
}
