// Init: `recfs init`, a new store for one account.

import ArgumentParser
import RecordingCore
import RecordingStore

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a store for one account, with the plan's default settings and a fresh account key.")

    @OptionGroup var options: StoreOptions
    @Option(help: "The account sid (letters, digits, '.', '_', '-').") var account: String
    @Option(help: "starter, growth or enterprise.") var plan: String
    @Option(help: "Where recordings are kept: ap-south-1 (India) or ap-southeast-1 (Singapore).") var region: String = "ap-south-1"

    func run() throws {
        try reporting("init") {
            guard let plan = Plan(rawValue: plan) else {
                throw CLIError("--plan: \"\(plan)\" is not one of starter, growth, enterprise")
            }
            guard let region = Region(rawValue: region) else {
                throw CLIError("--region: \"\(region)\" is not one of \(Region.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let path = try options.path()
            let store = try Store.create(at: path, accountSid: account, plan: plan, region: region, actor: Store.currentActor)
            print("created store \(path) for account \(store.account.sid) on the \(plan.displayName) plan in \(region.rawValue)")
            print("account key: \(path)/keys.json (mode 0600; back it up: without it no recording can be read)")
        }
    }
}
