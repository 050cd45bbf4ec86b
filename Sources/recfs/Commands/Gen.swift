// Gen: `recfs gen` (being written).

import ArgumentParser

struct Gen: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Not available yet.", shouldDisplay: false)

    func run() throws {
        throw CLIError("recfs gen is not available in this build yet")
    }
}
