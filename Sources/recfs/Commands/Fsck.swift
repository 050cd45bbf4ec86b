// Fsck: `recfs fsck`, blobs against the catalog.

import ArgumentParser
import RecordingStore

struct Fsck: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that every catalogued recording has its blob and every blob is catalogued.",
        discussion: "Orphan blobs (left by a crash between storing a blob and cataloguing it) and half-written staging files are removed with --repair. Exit status 1 when problems remain.")

    @OptionGroup var options: StoreOptions
    @Flag(help: "Delete orphan blobs and staging leftovers; correct catalogued call.json sizes.") var repair = false

    func run() throws {
        try reporting("fsck") {
            let report = try options.open().fsck(repair: repair)
            let verb = repair ? "removed" : "found"
            for o in report.orphanBlobs { print("orphan blob \(verb): \(o)") }
            for s in report.stagingLeftovers { print("staging leftover \(verb): \(s)") }
            for d in report.damaged { print("damaged: \(d)") }
            for w in report.wrongDocumentSizes { print("call.json size \(repair ? "corrected" : "wrong"): \(w)") }
            if report.filledDocumentSizes > 0 { print("catalogued the call.json size of \(report.filledDocumentSizes) older recording(s)") }
            print("checked \(report.checked) recording\(report.checked == 1 ? "" : "s"): \(report.orphanBlobs.count) orphan blob(s), \(report.stagingLeftovers.count) staging leftover(s), \(report.damaged.count) damaged")
            if !report.damaged.isEmpty || (!repair && !report.isClean) { throw ExitCode.failure }
        }
    }
}
