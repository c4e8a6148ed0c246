import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Plain blocking sockets on 127.0.0.1, for driving the server the way a sender would.
public enum LoopbackSockets {
    public static func address(port: Int, host: String = "127.0.0.1") -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        return address
    }

    /// A connected TCP socket (no Nagle delay, so separate writes tend to arrive separately).
    public static func connectTCP(port: Int) -> Int32 {
        guard let socket = tryConnectTCP(port: port) else { preconditionFailure("connect failed: \(errno)") }
        return socket
    }

    /// The same, or nil when nothing listens on `port` (of `host`, an IPv4 address).
    public static func tryConnectTCP(port: Int, host: String = "127.0.0.1") -> Int32? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = address(port: port, host: host)
        let result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard result == 0 else {
            close(socket)
            return nil
        }
        return socket
    }

    /// One HTTP/1.1 request on a fresh connection: the status, the head and the body; nil when
    /// nothing listens on `port` (of `host`).
    public static func httpRequest(_ path: String, method: String = "GET", port: Int, host: String = "127.0.0.1") -> (status: Int, head: String, body: String)? {
        guard let socket = tryConnectTCP(port: port, host: host) else { return nil }
        defer { close(socket) }
        sendAll(socket, Array("\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8))
        var bytes: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 65_536)
        while case let count = recv(socket, &buffer, buffer.count, 0), count > 0 { bytes += buffer[0..<count] }
        let parts = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n\r\n")
        let status = Int(parts[0].split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, parts[0], parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    public static func sendAll(_ socket: Int32, _ bytes: some Collection<UInt8>) {
        var remaining = Array(bytes)[...]
        while !remaining.isEmpty {
            let sent = remaining.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }  // closed by the server
            remaining = remaining.dropFirst(sent)
        }
    }

    /// One UDP datagram from a fresh socket (a new source port each call) or from `socket`.
    public static func sendDatagram(port: Int, _ bytes: [UInt8], from socket: Int32? = nil) {
        let udp = socket ?? Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { if socket == nil { close(udp) } }
        var address = address(port: port)
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(udp, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        precondition(sent == bytes.count, "sendto failed: \(errno)")
    }

    public static func udpSocket() -> Int32 { Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0) }

    /// Whether the peer has closed `socket` (waits up to `timeout` seconds for it).
    public static func isClosedByPeer(_ socket: Int32, timeout: Double) -> Bool {
        var poll = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard Glibc.poll(&poll, 1, Int32(timeout * 1000)) > 0 else { return false }
        var byte: UInt8 = 0
        return recv(socket, &byte, 1, 0) <= 0
    }

    /// This process's resident memory, in bytes.
    public static func residentBytes() -> Int {
        let fields = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
        return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
