// Covers --help of every subcommand, one-line errors for an unknown or missing store, unknown call sids, and init's refusals.

import Foundation
import Testing

@Suite("help and errors")
struct HelpAndErrorsTests {
    static let commands: [[String]] = [
        [], ["init"], ["ingest"], ["ls"], ["cat"], ["settings"], ["settings", "show"], ["settings", "validate"],
        ["settings", "set"], ["keys"], ["keys", "rotate"], ["keys", "list"], ["fsck"],
    ]

    @Test("--help works for every command", arguments: HelpAndErrorsTests.commands)
    func help(_ command: [String]) throws {
        for flag in ["--help", "-h"] {
            let r = try CLI.run(command + [flag])
            #expect(r.status == 0, "\(r.summary)")
            #expect(r.out.contains("USAGE: recfs \(command.joined(separator: " "))".trimmingCharacters(in: .whitespaces)), "\(r.summary)")
            #expect(r.out.contains("OVERVIEW:"), "\(r.summary)")
        }
        if !command.isEmpty {
            let viaHelp = try CLI.run(["help"] + command)
            #expect(viaHelp.status == 0, "\(viaHelp.summary)")
            #expect(viaHelp.out.contains("USAGE: recfs \(command.joined(separator: " "))"), "\(viaHelp.summary)")
        }
    }

    @Test("--version prints the version")
    func version() throws {
        let r = try CLI.ok(["--version"])
        #expect(r.out.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0", "\(r.summary)")
    }

    /// Every command pointed at a store path that does not exist.
    static let storeCommands: [[String]] = [
        ["ls"], ["ls", "--json"], ["cat", "CA5a4f7a5b568e5da8e66977530a6f9870"], ["settings", "show"],
        ["settings", "validate", "/dev/null"], ["settings", "set", "/dev/null"], ["keys", "list"], ["keys", "rotate"],
        ["fsck"], ["fsck", "--repair"], ["ingest", Fixtures.callFile(Fixtures.dualSid)],
    ]

    @Test("an unknown store path gives a one-line error, a non-zero exit, and creates nothing",
          arguments: HelpAndErrorsTests.storeCommands)
    func unknownStore(_ command: [String]) throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let missing = tmp.sub("no/such/store")
        var args = command
        args.insert(contentsOf: ["--store", missing], at: command.first == "settings" || command.first == "keys" ? 2 : 1)
        let r = try CLI.run(args)
        expectFailure(r, mentioning: [missing])
        #expect(r.errLines.count == 1, "one line: \(r.summary)")
        #expect(r.stdout.isEmpty, "\(r.summary)")
        #expect(!FileManager.default.fileExists(atPath: tmp.sub("no")), "\(command) created folders for a missing store")

        // An existing folder that is not a store is no better.
        let empty = tmp.sub("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        args = command
        args.insert(contentsOf: ["--store", empty], at: command.first == "settings" || command.first == "keys" ? 2 : 1)
        let r2 = try CLI.run(args)
        expectFailure(r2, mentioning: [empty])
        #expect(r2.errLines.count == 1, "one line: \(r2.summary)")
        #expect(StoreHelper.files(under: empty).isEmpty, "\(command) wrote into a folder that is not a store")
    }

    @Test("without --store or RECFS_STORE commands say so")
    func noStore() throws {
        for command in [["ls"], ["fsck"], ["keys", "list"], ["settings", "show"]] {
            let r = try CLI.run(command)
            expectFailure(r, mentioning: ["--store"])
            #expect(r.errLines.count == 1, "\(r.summary)")
        }
    }

    @Test("cat of an unknown call sid, or of a call without a recording, fails naming it")
    func unknownCall() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp)
        for sid in ["CA0000000000000000000000000000dead", "nonsense", "CA5A4F7A5B568E5DA8E66977530A6F9870"] {
            let r = try CLI.run(["cat", "--store", store, sid])
            expectFailure(r, mentioning: [sid])
            #expect(r.stdout.isEmpty, "\(r.summary)")
            #expect(r.errLines.count == 1, "\(r.summary)")
        }
        for sid in Fixtures.unrecorded.sorted() {
            let r = try CLI.run(["cat", "--store", store, sid])
            expectFailure(r, mentioning: [sid, "no recording"])
            #expect(r.stdout.isEmpty, "\(r.summary)")
        }
    }

    @Test("init refuses an existing store, a bad plan, region or account, and never replaces the key file")
    func initRefusals() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp, calls: [Fixtures.dualSid])
        let keys = try Data(contentsOf: URL(fileURLWithPath: store + "/keys.json"))
        let again = try CLI.run(["init", "--store", store, "--account", "ACdemo", "--plan", "growth", "--region", "ap-south-1"])
        expectFailure(again, mentioning: [store])
        #expect(try Data(contentsOf: URL(fileURLWithPath: store + "/keys.json")) == keys, "a second init replaced the account key")
        #expect(try StoreHelper.cat(store, Fixtures.dualSid) == (try Fixtures.recording(Fixtures.dualSid)))

        for (args, needle) in [(["--plan", "platinum", "--account", "ACx"], "--plan"),
                               (["--plan", "growth", "--account", "ACx", "--region", "us-east-1"], "--region"),
                               (["--plan", "growth", "--account", "../ACx"], "--account"),
                               (["--plan", "growth", "--account", ""], "--account")] {
            let dir = tmp.sub("bad-\(UUID().uuidString)")
            let r = try CLI.run(["init", "--store", dir] + args)
            expectFailure(r, mentioning: [needle])
            #expect(!FileManager.default.fileExists(atPath: dir + "/catalog.sqlite"), "init made a store despite \(args)")
        }
    }
}
