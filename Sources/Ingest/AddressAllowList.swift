import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// `--allow CIDR[,CIDR...]`: the addresses senders may use. An IPv4 range also matches the
/// IPv4-mapped IPv6 form (`::ffff:10.0.0.5`) that a dual-stack socket reports.
///
/// Thread: any (a value).
public struct AddressAllowList: Hashable, Sendable, CustomStringConvertible {
    /// One range: an address (16 bytes, IPv4 mapped) and how many leading bits must match.
    struct Range: Hashable, Sendable {
        var bytes: [UInt8]
        var prefixBits: Int
        var text: String

        func contains(_ address: [UInt8]) -> Bool {
            var bits = prefixBits, index = 0
            while bits > 0 {
                let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
                if address[index] & mask != bytes[index] & mask { return false }
                bits -= 8
                index += 1
            }
            return true
        }
    }

    private let ranges: [Range]

    /// Parses `10.0.0.0/8,192.168.1.7,fd00::/8` (a bare address is itself alone).
    public init(parsing text: String) throws(AddressAllowListError) {
        var ranges: [Range] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map({ String($0.filter { $0 != " " }) }) {
            let parts = item.split(separator: "/", maxSplits: 1).map(String.init)
            guard let first = parts.first, var bytes = Self.bytes(of: first) else { throw AddressAllowListError(text: item) }
            let isIPv4 = !first.contains(":")
            let widest = isIPv4 ? 32 : 128
            var prefix = widest
            if parts.count == 2 {
                guard let bits = Int(parts[1]), (0...widest).contains(bits) else { throw AddressAllowListError(text: item) }
                prefix = bits
            }
            if isIPv4 { prefix += 96 }
            // Normalized, so that `10.1.2.3/8` prints as what it means.
            for index in 0..<16 where index * 8 >= prefix { bytes[index] = 0 }
            for index in 0..<16 where index * 8 < prefix && prefix < (index + 1) * 8 { bytes[index] &= ~(0xFF >> UInt8(prefix - index * 8)) }
            ranges.append(Range(bytes: bytes, prefixBits: prefix, text: item))
        }
        self.ranges = ranges
    }

    /// Whether `address` is in one of the ranges.
    public func allows(_ address: SocketAddress?) -> Bool {
        guard let address, let bytes = Self.bytes(of: address) else { return false }
        return ranges.contains { $0.contains(bytes) }
    }

    public var description: String { ranges.map(\.text).joined(separator: ",") }

    /// An address as 16 bytes, IPv4 as `::ffff:a.b.c.d`.
    static func bytes(of text: String) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: 16)
        if text.contains(":") {
            guard bytes.withUnsafeMutableBytes({ inet_pton(AF_INET6, text, $0.baseAddress) }) == 1 else { return nil }
            return bytes
        }
        var four = [UInt8](repeating: 0, count: 4)
        guard four.withUnsafeMutableBytes({ inet_pton(AF_INET, text, $0.baseAddress) }) == 1 else { return nil }
        bytes[10] = 0xFF
        bytes[11] = 0xFF
        bytes.replaceSubrange(12..<16, with: four)
        return bytes
    }

    static func bytes(of address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let v4):
            var raw = v4.address.sin_addr
            return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + withUnsafeBytes(of: &raw) { Array($0) }
        case .v6(let v6):
            var raw = v6.address.sin6_addr
            return withUnsafeBytes(of: &raw) { Array($0) }
        case .unixDomainSocket:
            return nil
        }
    }
}

/// An `--allow` item that is not an address or CIDR range.
public struct AddressAllowListError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The item.
    public var text: String

    public var description: String { "\"\(text)\" is not an address or CIDR range (expected e.g. 192.168.1.0/24, 10.0.0.7 or fd00::/8)" }
}
