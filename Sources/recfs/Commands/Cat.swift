// Cat: `recfs cat`, a recording's decrypted bytes on stdout.

import ArgumentParser
import Dispatch
import Foundation
import Glibc
import RecordingCore
import RecordingStore

struct Cat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a call's recording, decrypted and authenticated, to stdout.",
        discussion: """
            --range START-END selects bytes START through END inclusive (as HTTP ranges do);
            START- runs to the end. Only the chunks holding the range are read. Any altered,
            truncated, reordered or foreign chunk stops the output with an integrity error:
            wrong audio is never written.
            """)

    @OptionGroup var options: StoreOptions
    @Argument(help: "The call sid.") var callSid: String
    @Option(help: ArgumentHelp("Bytes START through END, inclusive.", valueName: "START-END")) var range: String?
    @Flag(help: "Write to stdout even when it is a terminal.") var force = false
    @Flag(help: "Report on stderr how many chunks were read and authenticated, and the throughput.") var stats = false

    func run() throws {
        try reporting("cat") {
            if isatty(1) == 1 && !force {
                throw CLIError("stdout is a terminal; redirect it to a file or a pipe (or add --force)")
            }
            let store = try options.open()
            let row = try store.recording(callSid: callSid)
            let selected = try range.map { try Cat.parseRange($0, size: row.plaintextSize) }
            let started = DispatchTime.now().uptimeNanoseconds
            let reader = try store.openRecording(row)
            var total = 0
            defer {
                if stats {
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                    printError(String(format: "cat: %d bytes, %d of %lld chunks authenticated, %.1f ms, %.2f GB/s",
                                      total, reader.chunksDecrypted, reader.layout.chunkCount(plaintextSize: row.plaintextSize),
                                      seconds * 1000, Double(total) / seconds / 1e9))
                }
            }
            try store.read(row, with: reader, range: selected) { piece in
                total += piece.count
                var done = 0
                while done < piece.count {
                    let n = write(1, piece.baseAddress! + done, piece.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw CLIError("writing to stdout: \(String(cString: strerror(errno)))")
                    }
                    done += n
                }
            }
        }
    }

    /// `START-END` (inclusive) or `START-` as a half-open range within `size`.
    static func parseRange(_ text: String, size: Int64) throws -> Range<Int64> {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Int64(parts[0]), start >= 0 else {
            throw CLIError("--range: \"\(text)\" is not START-END or START- (bytes, END inclusive)")
        }
        let end: Int64
        if parts[1].isEmpty {
            end = size - 1
        } else {
            guard let e = Int64(parts[1]) else { throw CLIError("--range: \"\(text)\": END is not a number") }
            end = min(e, size - 1)
        }
        guard start < size else { throw CLIError("--range: starts at \(start) but the recording is \(size) bytes") }
        guard end >= start else { throw CLIError("--range: \"\(text)\" is empty (END before START)") }
        return start..<(end + 1)
    }
}
