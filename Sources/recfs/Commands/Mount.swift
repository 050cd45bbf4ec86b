// Mount: `recfs mount` (being written).

import ArgumentParser

struct Mount: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Not available yet.", shouldDisplay: false)

    func run() throws {
        throw CLIError("recfs mount is not available in this build yet")
    }
}
