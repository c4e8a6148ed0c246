import Core
import Foundation
import Synchronization
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A UDP proxy on 127.0.0.1 for tests (DESIGN §5): forwards every datagram to a target port,
/// dropping, duplicating, delaying and reordering them on a seeded schedule so runs repeat.
final class FaultProxy: @unchecked Sendable {
    struct Faults {
        var drop = 0.0
        var duplicate = 0.0
        /// Chance that a datagram is held back and sent after the next one.
        var reorder = 0.0
        /// Added before each forward, in microseconds (0 … this, uniformly).
        var jitterMicroseconds: UInt32 = 0
    }

    let port: Int
    private let socket: Int32
    private let target: Int
    private let faults: Faults
    private let stopped = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    /// What the proxy did, for the test to check against.
    private(set) var dropped: [Int] = [], duplicated: [Int] = [], forwarded = 0, received = 0

    init(forwardingTo target: Int, faults: Faults, seed: UInt64) {
        self.target = target
        self.faults = faults
        let udp = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = LoopbackSockets.address(port: 0)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(udp, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(udp, $0, &length) } }
        // A deep receive queue, so the proxy loses nothing but what it chooses to (FORCE passes
        // the system's cap when running as root, as CI does).
        var bufferBytes: Int32 = 8 << 20
        if setsockopt(udp, SOL_SOCKET, SO_RCVBUFFORCE, &bufferBytes, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            setsockopt(udp, SOL_SOCKET, SO_RCVBUF, &bufferBytes, socklen_t(MemoryLayout<Int32>.size))
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(udp, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        socket = udp
        port = Int(UInt16(bigEndian: bound.sin_port))
        let thread = Thread { [self] in run(seed: seed) }
        thread.start()
    }

    /// Stops forwarding (after sending anything held back) and waits for the thread.
    func stop() {
        stopped.store(true, ordering: .releasing)
        done.wait()
        close(socket)
    }

    private func run(seed: UInt64) {
        var random = SeededRandomNumberGenerator(seed: seed)
        var held: [UInt8]?
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var index = 0
        while !stopped.load(ordering: .acquiring) {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { continue }
            let datagram = Array(buffer[..<count])
            received += 1
            defer { index += 1 }
            if random.chance(faults.drop) { dropped.append(index); continue }
            if faults.jitterMicroseconds > 0 { usleep(UInt32(random.next() % UInt64(faults.jitterMicroseconds + 1))) }
            if held == nil && random.chance(faults.reorder) { held = datagram; continue }
            forward(datagram)
            if random.chance(faults.duplicate) { forward(datagram); duplicated.append(index) }
            if let late = held { forward(late); held = nil }
        }
        if let late = held { forward(late) }
        done.signal()
    }

    private func forward(_ datagram: [UInt8]) {
        LoopbackSockets.sendDatagram(port: target, datagram, from: socket)
        forwarded += 1
    }
}
