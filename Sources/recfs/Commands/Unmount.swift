// Unmount: `recfs unmount` (being written).

import ArgumentParser

struct Unmount: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Not available yet.", shouldDisplay: false)

    func run() throws {
        throw CLIError("recfs unmount is not available in this build yet")
    }
}
