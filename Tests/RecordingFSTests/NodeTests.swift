// NodeTests: inode numbers and what they stand for, both ways.

import Testing
@testable import RecordingFS

@Suite struct NodeTests {
    @Test func rootIsInodeOne() {
        #expect(Node.root.inode == 1)
        #expect(Node(inode: 1) == .root)
    }

    @Test func everyKindRoundTrips() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let day = Int64.random(in: 0...80_000, using: &rng)
            let flow = Int64.random(in: 1...0xFF_FFFF, using: &rng)
            let number = Int64.random(in: 1...(1 << 48), using: &rng)
            let nodes: [Node] = [.day(day), .flow(day: day, flow: flow), .call(number)] + CallFile.allCases.map { .file(number, $0) }
                + [.settings(.flowFile(number)), .settings(.scratch(number)), .settings(.folder), .settings(.flowsFolder),
                   .settings(.lastError)] + (0..<4).map { .settings(.fixed($0)) }
            for node in nodes {
                #expect(Node(inode: node.inode) == node)
            }
            #expect(Set(nodes.map(\.inode)).count == nodes.count)
        }
    }

    @Test func unknownNumbersAreRefused() {
        #expect(Node(inode: 0) == nil)
        #expect(Node(inode: 2) == nil)
        #expect(Node(inode: 11 << 56) == nil)
        #expect(Node(inode: 8 << 56 | 3) == nil)
    }
}
