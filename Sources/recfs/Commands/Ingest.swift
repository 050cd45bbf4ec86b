// Ingest: `recfs ingest`, finished calls into the store.

import ArgumentParser
import RecordingCore
import RecordingEngine
import RecordingStore

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ingest finished calls (call JSON files) into the store.",
        discussion: """
            Each call is validated, resolved against the account, flow and per-call settings;
            the recording engine makes the recording the settings ask for from the call's legs
            (mixed MP3 or WAV, or stereo WAV with the agent left), and it is encrypted and
            stored atomically. Calls without a recording are catalogued with the reason. A call delivered again with
            identical inputs is reported as already ingested; with different inputs it is refused.
            """)

    @OptionGroup var options: StoreOptions
    @Argument(help: ArgumentHelp("Call JSON files.", valueName: "CALL.json")) var calls: [String]

    func run() throws {
        try reporting("ingest") {
            guard !calls.isEmpty else { throw CLIError("give at least one CALL.json") }
            let store = try options.open()
            var failures = 0
            for (i, path) in calls.enumerated() {
                do {
                    let result = try RecordingEngine.ingest(callFile: path, into: store, actor: Store.currentActor)
                    let sid = result.call.sid
                    if let r = result.recording {
                        let state = result.alreadyIngested ? "already ingested" : "recorded"
                        print("\(sid): \(state): \(r.mode) \(r.format) \(humanDuration(r.durationMs)) \(humanSize(r.plaintextSize)), flow \(r.flow), expires \(Timestamp(milliseconds: r.expiresAt))")
                    } else {
                        let state = result.alreadyIngested ? "already ingested, " : ""
                        print("\(sid): \(state)no recording: \(result.call.noRecordingReason ?? "")")
                    }
                } catch {
                    failures += 1
                    printError("recfs ingest: \(path): \(error)")
                }
                if calls.count > 20 && (i + 1) % 100 == 0 { printError("ingest: \(i + 1)/\(calls.count) calls") }
            }
            if failures > 0 {
                printError("recfs ingest: \(failures) of \(calls.count) call\(calls.count == 1 ? "" : "s") refused")
                throw ExitCode.failure
            }
        }
    }
}
