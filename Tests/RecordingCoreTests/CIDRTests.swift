// CIDRTests: IPv4/IPv6 address parsing and CIDR networks (host bits, prefix edges, contains).

import Testing
@testable import RecordingCore

private func ip(_ text: String) -> IPAddress? { IPAddress(text) }

struct IPAddressTests {
    @Test(arguments: [
        ("0.0.0.0", [0, 0, 0, 0] as [UInt8]), ("255.255.255.255", [255, 255, 255, 255]),
        ("203.0.113.7", [203, 0, 113, 7]), ("10.0.0.1", [10, 0, 0, 1]),
    ])
    func ipv4Parses(text: String, bytes: [UInt8]) throws {
        let a = try #require(ip(text))
        #expect(a.bytes == bytes)
        #expect(a.isV4)
        #expect(a.description == text)
    }

    @Test(arguments: ["300.1.1.1", "256.0.0.0", "1.2.3", "1.2.3.4.5", "1..2.3", "01.2.3.4", "1.2.3.04", "a.b.c.d", "1.2.3.-4",
                      " 1.2.3.4", "1.2.3.4 ", "", "abc", "1.2.3.4/", "٣.1.1.1", "+1.2.3.4", "0x7f.0.0.1"])
    func badIPv4IsRefused(text: String) {
        #expect(ip(text) == nil)
    }

    @Test(arguments: [
        ("::", [UInt8](repeating: 0, count: 16)),
        ("::1", [UInt8](repeating: 0, count: 15) + [1]),
        ("1::", [0, 1] + [UInt8](repeating: 0, count: 14)),
        ("2001:db8::8:800:200c:417a", [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0x08, 0x08, 0, 0x20, 0x0c, 0x41, 0x7a]),
        ("2001:DB8:0:0:8:800:200C:417A", [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0x08, 0x08, 0, 0x20, 0x0c, 0x41, 0x7a]),
        ("::ffff:192.0.2.128", [UInt8](repeating: 0, count: 10) + [0xff, 0xff, 192, 0, 2, 128]),
        ("64:ff9b::203.0.113.1", [0, 0x64, 0xff, 0x9b] + [UInt8](repeating: 0, count: 8) + [203, 0, 113, 1]),
        ("1:2:3:4:5:6:7.8.9.10", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 7, 8, 9, 10]),
        ("1:2:3:4:5:6:7::", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]),
        ("::2:3:4:5:6:7:8", [0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]),
    ])
    func ipv6Parses(text: String, bytes: [UInt8]) throws {
        let a = try #require(ip(text))
        #expect(a.bytes == bytes)
        #expect(!a.isV4)
        #expect(IPAddress(a.description) == a)
    }

    @Test(arguments: ["1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1::2::3", ":::", ":1::", "1:2:3:4:5:6:7:8::", "12345::", "g::",
                      "::1.2.3", "::256.1.1.1", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4:5", "1:", ":1", "[::1]", "::1%eth0"])
    func badIPv6IsRefused(text: String) {
        #expect(ip(text) == nil)
    }

    @Test(arguments: ["::+1", "+1::", "1.2.3.4::", "-0::1"])
    func ipv6WithSignsOrAV4HeadIsRefused(text: String) {
        #expect(ip(text) == nil)
    }

    @Test func v4AndMappedV6AreDifferentAddresses() throws {
        let v4 = try #require(ip("192.0.2.128"))
        let mapped = try #require(ip("::ffff:192.0.2.128"))
        #expect(v4 != mapped)
        #expect(v4.bytes.count == 4)
        #expect(mapped.bytes.count == 16)
    }
}

struct CIDRTests {
    @Test(arguments: ["10.0.0.1/8", "11.0.0.0/7", "192.168.1.1/24", "203.0.113.128/24", "1.0.0.0/0", "2001:db8::1/32",
                      "::1/127", "2001:db8:8000::/32", "fe80::1/10"])
    func hostBitsMustBeZero(text: String) {
        #expect(CIDR(text) == nil)
    }

    @Test(arguments: ["300.1.1.1", "abc", "", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/8/8", "10.0.0.0/-8",
                      "10.0.0.0/+8", "10.0.0.0/ 8", "10.0.0.0/8 ", "10.0.0.0/1000", "10.0.0.0/a"])
    func malformedIsRefused(text: String) {
        #expect(CIDR(text) == nil)
    }

    @Test(arguments: [
        ("0.0.0.0/0", 0, true), ("10.0.0.0/8", 8, true), ("203.0.113.0/24", 24, true), ("198.51.100.7/32", 32, true),
        ("198.51.100.7", 32, true), ("::/0", 0, false), ("2001:db8::/32", 32, false), ("::1/128", 128, false), ("::1", 128, false),
    ])
    func goodNetworkParses(text: String, prefix: Int, v4: Bool) throws {
        let c = try #require(CIDR(text))
        #expect(c.prefixLength == prefix)
        #expect(c.network.isV4 == v4)
        #expect(CIDR(c.description) == c)
    }

    @Test func descriptionIsAddressSlashPrefix() {
        #expect(CIDR("203.0.113.0/24")?.description == "203.0.113.0/24")
        #expect(CIDR("198.51.100.7")?.description == "198.51.100.7/32")
    }

    @Test(arguments: [
        ("203.0.113.0/24", "203.0.113.0", true), ("203.0.113.0/24", "203.0.113.255", true),
        ("203.0.113.0/24", "203.0.112.255", false), ("203.0.113.0/24", "203.0.114.0", false),
        ("10.0.0.0/8", "10.255.255.255", true), ("10.0.0.0/8", "11.0.0.0", false), ("10.0.0.0/8", "9.255.255.255", false),
        ("192.168.0.0/23", "192.168.1.200", true), ("192.168.0.0/23", "192.168.2.0", false),
        ("172.16.0.0/12", "172.31.255.255", true), ("172.16.0.0/12", "172.32.0.0", false),
        ("128.0.0.0/1", "127.255.255.255", false), ("128.0.0.0/1", "255.255.255.255", true),
        ("0.0.0.0/0", "0.0.0.0", true), ("0.0.0.0/0", "255.255.255.255", true),
        ("198.51.100.7/32", "198.51.100.7", true), ("198.51.100.7/32", "198.51.100.6", false), ("198.51.100.7/32", "198.51.100.8", false),
        ("2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true), ("2001:db8::/32", "2001:db9::", false),
        ("2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false),
        ("2001:db8:8000::/33", "2001:db8:8000::1", true), ("2001:db8:8000::/33", "2001:db8:7fff::1", false),
        ("::/0", "::", true), ("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
        ("::1/128", "::1", true), ("::1/128", "::", false), ("::1/128", "::2", false),
        ("fe80::/10", "febf::1", true), ("fe80::/10", "fec0::1", false),
    ])
    func containsAcrossBoundaries(network: String, address: String, inside: Bool) throws {
        let c = try #require(CIDR(network))
        let a = try #require(IPAddress(address))
        #expect(c.contains(a) == inside)
    }

    @Test(arguments: [("0.0.0.0/0", "::"), ("0.0.0.0/0", "::ffff:10.0.0.1"), ("10.0.0.0/8", "::ffff:10.0.0.1"),
                      ("::/0", "10.0.0.1"), ("::ffff:0:0/96", "10.0.0.1"), ("::/0", "0.0.0.0")])
    func v4NeverMatchesV6(network: String, address: String) throws {
        let c = try #require(CIDR(network))
        let a = try #require(IPAddress(address))
        #expect(!c.contains(a))
    }

    @Test func everyV4PrefixLengthMasksExactly() throws {
        // For each length, the network holds exactly the addresses whose first `length` bits match.
        var rng = SeededGenerator(seed: 7)
        for length in 0...32 {
            let raw = UInt32.random(in: 0...UInt32.max, using: &rng)
            let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
            let network = raw & mask
            func text(_ v: UInt32) -> String { [24, 16, 8, 0].map { String((v >> $0) & 0xFF) }.joined(separator: ".") }
            let c = try #require(CIDR("\(text(network))/\(length)"))
            if length < 32 { #expect(CIDR("\(text(network | 1))/\(length)") == nil) }
            for _ in 0..<50 {
                let probe = UInt32.random(in: 0...UInt32.max, using: &rng)
                let a = try #require(IPAddress(text(probe)))
                #expect(c.contains(a) == (probe & mask == network), "\(c) vs \(text(probe))")
                let inside = try #require(IPAddress(text(network | (probe & ~mask))))
                #expect(c.contains(inside))
            }
        }
    }
}
