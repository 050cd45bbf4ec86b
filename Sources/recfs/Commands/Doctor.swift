// Doctor: `recfs doctor` (being written).

import ArgumentParser

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Not available yet.", shouldDisplay: false)

    func run() throws {
        throw CLIError("recfs doctor is not available in this build yet")
    }
}
