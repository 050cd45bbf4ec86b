// CIDR: IPv4 and IPv6 networks for the IP allow-list, parsed and matched without any C.

/// An IP address, v4 or v6, as 16 bytes (v4 addresses are kept apart, not v4-mapped).
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]
    public var isV4: Bool { bytes.count == 4 }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with `::` and an embedded v4 tail).
    public init?(_ text: String) {
        if let v4 = IPAddress.parseV4(Substring(text)) {
            bytes = v4
        } else if let v6 = IPAddress.parseV6(text) {
            bytes = v6
        } else {
            return nil
        }
    }

    public var description: String {
        if isV4 { return bytes.map(String.init).joined(separator: ".") }
        var groups: [String] = []
        for i in stride(from: 0, to: 16, by: 2) {
            groups.append(String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16))
        }
        return groups.joined(separator: ":")
    }

    static func parseV4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCII), p.allSatisfy(\.isNumber),
                  !(p.count > 1 && p.first == "0"), let v = UInt8(p) else { return nil }
            out.append(v)
        }
        return out
    }

    static func parseV6(_ text: String) -> [UInt8]? {
        guard text.contains(":"), text.count <= 45 else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        /// Hex groups; a dotted IPv4 part may only end the whole address.
        func groups(_ s: String, endsAddress: Bool) -> [UInt8]? {
            if s.isEmpty { return [] }
            var out: [UInt8] = []
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            for (i, p) in parts.enumerated() {
                if endsAddress, i == parts.count - 1, p.contains(".") {
                    guard let v4 = parseV4(p) else { return nil }
                    out += v4
                    continue
                }
                guard (1...4).contains(p.count), p.allSatisfy(\.isHexDigit), let v = UInt16(p, radix: 16) else { return nil }
                out += [UInt8(v >> 8), UInt8(v & 0xFF)]
            }
            return out
        }
        guard let head = groups(halves[0], endsAddress: halves.count == 1) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1], endsAddress: true), head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}

/// A network in CIDR notation (`203.0.113.0/24`, `2001:db8::/32`); a bare address is a /32 or /128.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    /// Parses CIDR text. Host bits must be zero (`10.0.0.1/8` is refused as ambiguous).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else { return nil }
        let maxBits = address.bytes.count * 8
        var length = maxBits
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy(\.isNumber),
                  let l = Int(parts[1]), l <= maxBits else { return nil }
            length = l
        }
        guard CIDR.mask(address.bytes, length) == address.bytes else { return nil }
        network = address
        prefixLength = length
    }

    public var description: String { "\(network)/\(prefixLength)" }

    /// Whether `address` lies in this network (v4 never matches v6 and the reverse).
    public func contains(_ address: IPAddress) -> Bool {
        address.bytes.count == network.bytes.count && CIDR.mask(address.bytes, prefixLength) == network.bytes
    }

    static func mask(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        bytes.enumerated().map { i, b in
            let bits = max(0, min(8, length - i * 8))
            return bits == 8 ? b : b & ~(UInt8(0xFF) >> bits)
        }
    }
}
