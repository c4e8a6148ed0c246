/// Where lines come from: a TCP connection's or a UDP sender's address and port.
public struct SourceKey: Hashable, Sendable, CustomStringConvertible {
    /// The transport a source uses.
    public enum Transport: String, Hashable, Sendable {
        case tcp, udp
    }

    public var transport: Transport
    /// The sender's IP address, as text.
    public var address: String
    public var port: Int

    /// Makes a key.
    public init(transport: Transport, address: String, port: Int) {
        self.transport = transport
        self.address = address
        self.port = port
    }

    /// `"tcp 127.0.0.1:53211"`.
    public var description: String { "\(transport) \(address.contains(":") ? "[\(address)]" : address):\(port)" }

    /// Whether the address is a loopback one (127.0.0.0/8, ::1, or IPv4-mapped loopback).
    public var isLoopback: Bool {
        let address = self.address.lowercased()
        return address.hasPrefix("127.") || address == "::1" || address.hasPrefix("::ffff:127.")
    }
}
