import Foundation
import Synchronization
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A TCP relay on 127.0.0.1 between a sender and the player, both ways, that can cut every
/// connection it carries: the network dropping a sender, which then reconnects through it.
final class TCPRelay: Sendable {
    let port: Int
    private let listener: Int32
    private let connections = Mutex<[Int32]>([])
    private let stopped = Atomic<Bool>(false)

    init(forwardingTo target: Int) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = LoopbackSockets.address(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        listen(listener, 8)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        Thread.detachNewThread { [self] in
            while !stopped.load(ordering: .acquiring) {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { continue }
                let server = LoopbackSockets.connectTCP(port: target)
                connections.withLock { $0 += [client, server] }
                for (from, to) in [(client, server), (server, client)] {
                    Thread.detachNewThread { [self] in pump(from: from, to: to) }
                }
            }
        }
    }

    /// Closes every connection carried so far (both sides see it end).
    func cutConnections() {
        connections.withLock { sockets in
            for socket in sockets { shutdown(socket, Int32(SHUT_RDWR)) }
        }
    }

    /// Stops accepting and cuts what is carried.
    func stop() {
        stopped.store(true, ordering: .releasing)
        shutdown(listener, Int32(SHUT_RDWR))
        cutConnections()
    }

    private func pump(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            LoopbackSockets.sendAll(to, buffer[..<count])
        }
        // Under the lock, so that a cut never shuts a number this has closed (and the system reused).
        connections.withLock { sockets in
            if sockets.contains(to) { shutdown(to, Int32(SHUT_RDWR)) }
            sockets.removeAll { $0 == from }
            close(from)
        }
    }
}
