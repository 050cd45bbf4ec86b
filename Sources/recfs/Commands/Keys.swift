// Keys: `recfs keys rotate|list`, the account keys that wrap every recording's data key.

import ArgumentParser
import RecordingStore

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the account keys that wrap each recording's data key.",
        subcommands: [Rotate.self, ListKeys.self])

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new account key, rewrap every data key with it, retire the old keys.",
            discussion: "No audio is re-encrypted: only the wrapped data keys in blob headers and the catalog change. Safe to run again if interrupted.")
        @OptionGroup var options: StoreOptions

        func run() throws {
            try reporting("keys rotate") {
                let store = try options.open()
                var lastShown = 0
                let r = try store.rotateKeys(actor: Store.currentActor) { done, total in
                    let percent = total == 0 ? 100 : done * 100 / total
                    if percent >= lastShown + 10 || done == total {
                        lastShown = percent
                        printError("rewrapping data keys: \(done)/\(total) (\(percent)%)")
                    }
                }
                print("active account key \(r.newKeyId); rewrapped \(r.rewrapped) data key\(r.rewrapped == 1 ? "" : "s"); retired \(r.retiredKeyIds.joined(separator: ", "))")
            }
        }
    }

    struct ListKeys: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List account key ids, the active one first.")
        @OptionGroup var options: StoreOptions

        func run() throws {
            try reporting("keys list") {
                let ids = try options.open().vault.keys.keyIds()
                for (i, id) in ids.enumerated() { print(i == 0 ? "\(id) (active)" : id) }
            }
        }
    }
}
