/// Where to listen: `--listen [HOST]:PORT`.
///
/// `:9000` is every interface, IPv4 and IPv6; `0.0.0.0:9000` every IPv4 one; `[::]:9000` every
/// IPv6 one; `127.0.0.1:9000` one address; `239.1.2.3:9000` (224.0.0.0/4) or `[ff02::1]:9000`
/// (ff00::/8) a multicast group to join.
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address to bind, nil for every interface (IPv4 and IPv6).
    public var host: String?
    /// The port, 0…65535 (0: any free port, the same for TCP and UDP).
    public var port: Int

    /// Makes an address.
    public init(host: String?, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `[HOST]:PORT`; the error says what was expected.
    public init(parsing text: String) throws(ListenAddressError) {
        guard let colon = text.lastIndex(of: ":") else { throw .init(text, "expected [HOST]:PORT, e.g. :9000 or 127.0.0.1:9000") }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard let port = Int(portText), (0...65_535).contains(port) else { throw .init(text, "the port must be a number from 0 (any free port) to 65535") }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { throw .init(text, "an IPv6 address goes in brackets, e.g. [::]:9000") }
            host = String(host.dropFirst().dropLast())
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." || $0 == "%" || $0.isLetter }) else {
                throw .init(text, "'\(host)' is not an IPv6 address")
            }
        } else if !host.isEmpty {
            guard !host.contains(":") else { throw .init(text, "an IPv6 address goes in brackets, e.g. [::1]:9000") }
            guard Self.ipv4Octets(host) != nil else { throw .init(text, "'\(host)' is not an IPv4 address (use [..] for IPv6)") }
        }
        self.init(host: host.isEmpty ? nil : host, port: port)
        guard port != 0 || !isMulticast else { throw .init(text, "a multicast group needs the port its senders send to") }
    }

    /// Whether the host is a multicast group (224.0.0.0/4 or ff00::/8): joined, not bound.
    public var isMulticast: Bool {
        guard let host else { return false }
        if let octets = Self.ipv4Octets(host) { return (224...239).contains(octets[0]) }
        return host.lowercased().hasPrefix("ff")
    }

    /// `[HOST]:PORT` as parsed (IPv6 in brackets).
    public var description: String {
        guard let host else { return ":\(port)" }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The four octets of a dotted IPv4 address, nil if it is not one.
    static func ipv4Octets(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let octets = parts.compactMap { part in part.count <= 3 && part.allSatisfy(\.isASCII) ? Int(part).flatMap { (0...255).contains($0) ? $0 : nil } : nil }
        return octets.count == 4 ? octets : nil
    }
}

/// A `--listen` value that could not be parsed.
public struct ListenAddressError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The text given.
    public var text: String
    /// What was expected.
    public var expected: String

    init(_ text: String, _ expected: String) {
        self.text = text
        self.expected = expected
    }

    /// `"--listen '9000': expected [HOST]:PORT, e.g. :9000 or 127.0.0.1:9000"`.
    public var description: String { "--listen '\(text)': \(expected)" }
}
