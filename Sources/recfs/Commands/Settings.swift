// Settings: `recfs settings show|validate|set`, the account's settings as one JSON document.

import ArgumentParser
import RecordingCore
import RecordingStore

struct Settings: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show, validate or set the account, flow, retention, access and storage settings.",
        subcommands: [Show.self, Validate.self, Set.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the current settings as JSON (secrets masked; plan limits beside them).")
        @OptionGroup var options: StoreOptions

        func run() throws {
            try reporting("settings show") {
                print(try options.open().settingsDocument().prettyPrinted(), terminator: "")
            }
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a settings document against the plan without applying it; list every problem.")
        @OptionGroup var options: StoreOptions
        @Argument(help: ArgumentHelp("A settings document (the shape settings show prints); - for stdin.", valueName: "FILE"))
        var file: String

        func run() throws {
            try reporting("settings validate") {
                let store = try options.open()
                _ = try store.validateSettings(try readDocument(file))
                print("\(file): valid for the \(store.plan.displayName) plan")
            }
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply a settings document: all of it if valid, none of it otherwise.",
            discussion: """
                Sections left out keep their current values, as do account fields left out.
                flows and retention.rules, when given, replace the whole set. A secret shown as
                ******** keeps the stored one. Read-only members (accountSid, plan, limits) may be
                present if unchanged.
                """)
        @OptionGroup var options: StoreOptions
        @Argument(help: ArgumentHelp("A settings document; - for stdin.", valueName: "FILE")) var file: String

        func run() throws {
            try reporting("settings set") {
                let store = try options.open()
                let change = try store.applySettings(try readDocument(file), actor: Store.currentActor)
                guard let version = change.version else {
                    print("no change: the settings already say this")
                    return
                }
                var line = "settings version \(version) applied"
                if change.expiriesChanged > 0 { line += "; expiry moved for \(change.expiriesChanged) recording\(change.expiriesChanged == 1 ? "" : "s")" }
                print(line)
            }
        }
    }
}

/// Reads a document from a file, or stdin for `-` (1 MiB at most).
func readDocument(_ file: String) throws -> [UInt8] {
    let path = file == "-" ? "/dev/stdin" : file
    do {
        return try Files.read(path, limit: 1 << 20)
    } catch let error as SystemError where error.code == 27 {
        throw CLIError("\(file): larger than 1 MiB; settings documents are small")
    }
}
