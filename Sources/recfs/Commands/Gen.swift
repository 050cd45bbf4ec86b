// Gen: `recfs gen`, synthetic calls from the fixture speech through the same engine and store
// path as `recfs ingest`; deterministic for a seed.

import ArgumentParser
import Dispatch
import Foundation
import RecordingCore
import RecordingEngine
import RecordingStore

struct Gen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make synthetic calls (for demos, tests and benchmarks) and ingest them.",
        discussion: """
            Calls vary in flow, direction, outcome (a few unanswered), requested mode, sample rate
            (8 or 16 kHz), IVR, opt-out and pauses; answered calls last 5 s to --max-duration
            (mostly short: median about 20 s). They start over the --days whole days before today
            (in the account's time zone), so none is in the future. Legs are built in memory from
            the fixture speech and go through the recording engine exactly as `recfs ingest` does.
            The same seed makes the same call sids and audio, and on the same day the same JSON:
            running it again reports the calls as already there.
            """)

    @OptionGroup var options: StoreOptions
    @Option(help: "How many calls.") var calls: Int
    @Option(help: "Spread the calls over this many days, ending yesterday.") var days: Int = 7
    @Option(help: "Seed of the generator.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Longest answered call, in seconds (5 to 1200).", valueName: "SECONDS")) var maxDuration: Int = 1200
    @Option(help: ArgumentHelp("Folder of call JSON files whose legs supply the speech (default: fixtures/calls of this checkout, or $RECFS_SPEECH).", valueName: "DIR"))
    var speech: String?

    func validate() throws {
        guard calls >= 1 else { throw ValidationError("--calls must be at least 1") }
        guard days >= 1 else { throw ValidationError("--days must be at least 1") }
        guard (5...1200).contains(maxDuration) else { throw ValidationError("--max-duration must be 5 to 1200 seconds") }
    }

    func run() throws {
        try reporting("gen") {
            let store = try options.open()
            let bank = try SpeechBank.load(calls: try speechFolder())
            let dates = try store.localDates()
            let now = Timestamp(milliseconds: store.now)
            guard let today = dates.range(of: dates.date(of: now)) else { throw CLIError("cannot find today's date in \(dates.timeZone.identifier)") }
            // The first instant of the date `days` before today (noon of it, found by counting
            // 24-hour days back, lies on that date whatever the clocks did in between).
            let first = dates.date(of: Timestamp(milliseconds: today.lowerBound.milliseconds - Int64(days) * 86_400_000 + 43_200_000))
            guard let from = dates.range(of: first)?.lowerBound else { throw CLIError("cannot find the date \(first) in \(dates.timeZone.identifier)") }
            // The window is whole local days, so the same seed on the same day gives the same
            // calls (a second run changes nothing), and ends where today begins, so no call
            // starts in the future (its files' times would be ahead of the clock).
            let generator = SyntheticCalls(account: store.account.sid, seed: seed, speech: bank, from: from, until: today.lowerBound,
                                           maxDurationSeconds: maxDuration)
            let tally = Tally(total: calls)
            let actor = Store.currentActor
            DispatchQueue.concurrentPerform(iterations: calls) { i in
                do {
                    let (delivery, call) = generator.call(i)
                    let result = try RecordingEngine.ingest(delivery, call: call, into: store, actor: actor)
                    tally.add(result)
                } catch {
                    tally.fail("call \(i): \(error)")
                }
            }
            tally.finish()
            print(tally.summary)
            if let failure = tally.firstFailure { throw CLIError("\(tally.failures) call(s) failed; first: \(failure)") }
        }
    }

    /// `--speech`, `$RECFS_SPEECH`, `./fixtures/calls`, or `fixtures/calls` above the executable.
    func speechFolder() throws -> String {
        if let s = speech ?? ProcessInfo.processInfo.environment["RECFS_SPEECH"], !s.isEmpty { return s }
        var candidates = [FileManager.default.currentDirectoryPath]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir.path)
            dir = dir.deletingLastPathComponent()
        }
        for c in candidates where FileManager.default.fileExists(atPath: c + "/fixtures/calls/MANIFEST.md") {
            return c + "/fixtures/calls"
        }
        throw CLIError("cannot find the fixture speech (fixtures/calls); give --speech DIR")
    }
}

/// Counts what gen did and draws the progress bar. Thread safety: every member is used under `lock`.
final class Tally: @unchecked Sendable {
    let lock = NSLock()
    let total: Int
    let interactive = isatty(2) != 0
    var done = 0, recorded = 0, unrecorded = 0, already = 0, failures = 0
    var byKind: [String: Int] = [:]
    var firstFailure: String?
    var lastDrawn = -1

    init(total: Int) { self.total = total }

    func add(_ r: IngestResult) {
        lock.lock(); defer { lock.unlock() }
        if r.alreadyIngested { already += 1 }
        if let rec = r.recording {
            recorded += 1
            byKind["\(rec.mode) \(rec.format)", default: 0] += 1
        } else {
            unrecorded += 1
        }
        step()
    }

    func fail(_ message: String) {
        lock.lock(); defer { lock.unlock() }
        failures += 1
        if firstFailure == nil { firstFailure = message }
        step()
    }

    private func step() {
        done += 1
        let width = 30
        let filled = done * width / total
        let percent = done * 100 / total
        if interactive ? filled != lastDrawn || done == total : percent / 10 != lastDrawn {
            lastDrawn = interactive ? filled : percent / 10
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let line = "gen: [\(bar)] \(done)/\(total) calls"
            FileHandle.standardError.write(Data((interactive ? "\r" + line : line + "\n").utf8))
        }
    }

    func finish() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    var summary: String {
        let kinds = byKind.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return "\(total) calls: \(recorded) recorded (\(kinds.isEmpty ? "none" : kinds)), \(unrecorded) without a recording"
            + (already > 0 ? "; \(already) were already in the store" : "") + (failures > 0 ? "; \(failures) failed" : "")
    }
}
