// List: `recfs ls`, the recordings by date and flow.

import ArgumentParser
import RecordingCore
import RecordingStore

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List recordings, oldest first (dates in the account's time zone).")

    @OptionGroup var options: StoreOptions
    @Option(help: ArgumentHelp("Only this local date.", valueName: "YYYY-MM-DD")) var date: String?
    @Option(help: ArgumentHelp("Only this flow.", valueName: "NAME")) var flow: String?
    @Flag(help: "Include recordings past their expiry that are not yet deleted.") var includeExpired = false
    @Flag(help: "JSON output, one array of objects.") var json = false

    func run() throws {
        try reporting("ls") {
            let store = try options.open()
            let rows = try store.recordings(RecordingQuery(date: date, flow: flow, includeExpired: includeExpired))
            let dates = try store.localDates()
            if json {
                print(JSONValue.array(rows.map { row(json: $0, dates: dates) }).prettyPrinted(), terminator: "")
                return
            }
            let header = ["DATE", "FLOW", "CALL", "FILE", "MODE", "DURATION", "SIZE", "OUTCOME", "EXPIRES"]
            var table = [header]
            for r in rows {
                table.append([dates.date(of: Timestamp(milliseconds: r.callStartedAt)), r.flow, r.callSid, r.fileName,
                              r.mode, humanDuration(r.durationMs), humanSize(r.plaintextSize), r.outcome,
                              dates.date(of: Timestamp(milliseconds: r.expiresAt))])
            }
            let widths = header.indices.map { c in table.map { $0[c].count }.max()! }
            for line in table {
                print(line.enumerated().map { c, cell in c == line.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                    .joined(separator: "  "))
            }
            printError("\(rows.count) recording\(rows.count == 1 ? "" : "s")")
        }
    }

    func row(json r: RecordingRow, dates: LocalDate) -> JSONValue {
        .object([
            ("date", .string(dates.date(of: Timestamp(milliseconds: r.callStartedAt)))),
            ("flow", .string(r.flow)),
            ("callSid", .string(r.callSid)),
            ("file", .string(r.fileName)),
            ("mode", .string(r.mode)),
            ("format", .string(r.format)),
            ("channels", .int(r.channels)),
            ("channelMap", (try? JSONValue.parse(r.channelMap)) ?? .null),
            ("sampleRate", .int(r.sampleRate)),
            ("durationMs", .number(String(r.durationMs))),
            ("size", .number(String(r.plaintextSize))),
            ("sha256", .string(r.sha256)),
            ("outcome", .string(r.outcome)),
            ("startedAt", .string(Timestamp(milliseconds: r.callStartedAt).description)),
            ("expiresAt", .string(Timestamp(milliseconds: r.expiresAt).description)),
            ("region", .string(r.region)),
        ])
    }
}
