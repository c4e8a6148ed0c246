/// Where `jamsend` sends: `--to HOST:PORT` (`127.0.0.1:9000`, `box.local:9000`, `[::1]:9000`).
public struct SenderDestination: Hashable, Sendable, CustomStringConvertible {
    /// Host name or address (without brackets).
    public let host: String
    /// Port.
    public let port: UInt16

    /// Why `--to` was refused.
    public struct ParseError: Error, CustomStringConvertible {
        /// The explanation.
        public let description: String
    }

    /// Parses `HOST:PORT` or `[IPV6]:PORT`.
    public init(parsing text: String) throws(ParseError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ParseError(description: "\(text): write an IPv6 destination as [ADDRESS]:PORT")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw ParseError(description: "\(text): expected HOST:PORT (IPv6 as [ADDRESS]:PORT)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw ParseError(description: "\(text): the host is missing") }
        guard let port = UInt16(portText), port > 0 else { throw ParseError(description: "\(text): the port must be 1…65535") }
        self.host = String(host)
        self.port = port
    }

    /// `HOST:PORT`, IPv6 in brackets.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
