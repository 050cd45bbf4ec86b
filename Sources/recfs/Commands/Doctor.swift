// Doctor: `recfs doctor`, why a call has the recording it has, row by row of the seed's
// troubleshooting table, plus where the recording is stored and when it expires.

import ArgumentParser
import RecordingCore
import RecordingEngine
import RecordingStore

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain a call's recording: each troubleshooting row, where it is stored, when it expires.",
        discussion: """
            Answers, for one call: no recording (not answered, or recording disabled by the call,
            flow or account settings), recording empty (under 2 s), dual-channel not working (the
            plan), recording quality (sample rate, clipping and silence of each leg, measured at
            ingest), custom storage; then where the recording is stored and when it expires.
            """)

    @OptionGroup var options: StoreOptions
    @Argument(help: ArgumentHelp("The call.", valueName: "CALLSID")) var callSid: String
    @Flag(help: "JSON output, one object.") var json = false

    func run() throws {
        try reporting("doctor") {
            let d = try CallDiagnosis.diagnose(callSid, in: try options.open())
            if json {
                print(d.json.prettyPrinted(), terminator: "")
                return
            }
            let c = d.call
            print("call \(c.sid): flow \(c.flow), \(c.direction), \(c.outcome), started \(Timestamp(milliseconds: c.startedAt))")
            if let r = d.recording {
                print("recording: \(r.mode)-channel \(r.format), \(humanDuration(r.durationMs)), \(r.plaintextSize) bytes, channels \(r.channelMap)")
            } else {
                print("no recording: \(c.noRecordingReason ?? "none was made")")
            }
            for f in d.findings {
                print("[\(f.status.rawValue)] \(f.issue): \(f.finding).")
                if let r = f.resolution { print("    resolution: \(r).") }
            }
            print("stored: \(d.storage).")
            print("expiry: \(d.expiry).")
        }
    }
}
