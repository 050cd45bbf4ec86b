// RecFS: the `recfs` command and the conventions its subcommands share.

import ArgumentParser
import Foundation
import RecordingCore
import RecordingStore

@main
struct RecFS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recfs",
        abstract: "A call-recording store with a FUSE face: encrypted recordings, settings as JSON, retention.",
        discussion: """
            Every command takes --store DIR (or the RECFS_STORE environment variable).
            Start with: recfs init --store DIR --account SID --plan growth --region ap-south-1
            """,
        version: "0.1.0",
        subcommands: [Init.self, Ingest.self, List.self, Cat.self, Settings.self, Keys.self, Fsck.self,
                      Doctor.self, Gen.self, Mount.self, Unmount.self]
    )
}

/// The `--store` option every command shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The store folder (default: $RECFS_STORE).", valueName: "DIR"))
    var store: String?

    /// The store path, from the option or the environment.
    func path() throws -> String {
        if let s = store ?? ProcessInfo.processInfo.environment["RECFS_STORE"], !s.isEmpty { return s }
        throw CLIError("--store DIR is required (or set RECFS_STORE)")
    }

    func open() throws -> Store { try Store.open(at: try path()) }
}

/// A failure to report in one line, with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a command body; any error becomes `recfs COMMAND: reason` on stderr and exit status 1.
func reporting(_ command: String, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        printError("recfs \(command): \(error)")
        throw ExitCode.failure
    }
}

/// Writes a line to stderr.
func printError(_ line: String) {
    fflush(nil)
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Human sizes: 1.9 MB, 224.0 KB, 812 B.
func humanSize(_ bytes: Int64) -> String {
    if bytes >= 1_000_000 { return String(format: "%.1f MB", Double(bytes) / 1_000_000) }
    if bytes >= 1_000 { return String(format: "%.1f KB", Double(bytes) / 1_000) }
    return "\(bytes) B"
}

/// Durations as m:ss.s.
func humanDuration(_ ms: Int64) -> String {
    String(format: "%d:%04.1f", ms / 60_000, Double(ms % 60_000) / 1000)
}
