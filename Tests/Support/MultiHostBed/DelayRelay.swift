import Core
import Foundation
import Synchronization
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The network between a sender and the boxes of the multi-host bed: a UDP relay that delays
/// every datagram by its path's one-way delay and jitter, both ways (`tc netem` is missing from
/// these machines' kernels).
///
/// The sender sends to ``senderPort`` on loopback; the relay passes each datagram to every box
/// (or once to a multicast group that they all joined) from the bridge's address, so the boxes
/// probe the relay, which passes each probe on to the sender from the same port the sender sends
/// to (its socket is connected there) and each echo back to the box whose probe it answers
/// (matched by the probe's `probe_sent`, which is that box's own clock).
public final class DelayRelay: @unchecked Sendable {
    /// A path between the sender and one box, each way.
    public struct Path: Sendable {
        /// Sender → box, and box → sender.
        public var forward: Nanoseconds, back: Nanoseconds
        /// Each datagram's delay moves by up to ± this (uniformly), each way.
        public var jitter: Nanoseconds

        /// Makes a path.
        public init(forward: Nanoseconds, back: Nanoseconds, jitter: Nanoseconds = .zero) {
            self.forward = forward
            self.back = back
            self.jitter = jitter
        }
    }

    /// Where the sender's datagrams go.
    public enum Delivery: Sendable {
        /// To each box (IPv4 address, port), on its own path.
        case unicast([(address: String, port: UInt16, path: Path)])
        /// Once to a multicast group on the bridge, on one path (each box's probes too).
        case multicast(group: String, port: UInt16, path: Path)
    }

    /// The loopback port the sender sends to.
    public let senderPort: UInt16

    private let senderSocket: Int32
    private let boxSocket: Int32
    private let delivery: Delivery
    private let answersProbes: Bool
    private let stopRequested = Atomic(false)
    private let done = DispatchSemaphore(value: 0)

    /// Opens the relay's sockets and starts its thread. `bridgeAddress` is this host's address on
    /// the boxes' network; with `answersProbes` false, probes are dropped (a sender that does not
    /// answer them, as one written before jamnet/1.1).
    public init(bridgeAddress: String, delivery: Delivery, answersProbes: Bool = true, seed: UInt64 = 1) throws {
        let senderSocket = try Self.boundSocket("127.0.0.1")
        let boxSocket = try Self.boundSocket(bridgeAddress)
        if case .multicast = delivery {
            var interface = in_addr()
            inet_pton(AF_INET, bridgeAddress, &interface)
            setsockopt(boxSocket, Int32(IPPROTO_IP), IP_MULTICAST_IF, &interface, socklen_t(MemoryLayout<in_addr>.size))
        }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(senderSocket, $0, &length) } }
        self.senderSocket = senderSocket
        self.boxSocket = boxSocket
        senderPort = UInt16(bigEndian: address.sin_port)
        self.delivery = delivery
        self.answersProbes = answersProbes
        let thread = Thread { [self] in run(random: SeededRandomNumberGenerator(seed: seed)) }
        thread.name = "delay-relay"
        thread.start()
    }

    deinit {
        close(senderSocket)
        close(boxSocket)
    }

    /// Stops the thread (datagrams still held are dropped).
    public func stop() {
        stopRequested.store(true, ordering: .relaxed)
        done.wait()
    }

    // MARK: - The thread

    private struct Held {
        var due: Int64
        var socket: Int32
        var destination: sockaddr_in
        var bytes: [UInt8]
    }

    private func run(random: SeededRandomNumberGenerator) {
        defer { done.signal() }
        // Real-time, so that the delays are what they say on a busy machine (root; else as is).
        var parameters = sched_param(sched_priority: 5)
        pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters)
        var random = random
        var held: [Held] = []
        var sender: sockaddr_in?
        var probeSources: [String: sockaddr_in] = [:]
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let clock = SystemMonotonicClock()
        func hold(_ bytes: [UInt8], on socket: Int32, to destination: sockaddr_in, after delay: Nanoseconds, jitter: Nanoseconds) {
            let moved = jitter.rawValue == 0 ? 0 : Int64.random(in: -jitter.rawValue...jitter.rawValue, using: &random)
            let due = clock.now().rawValue + max(0, delay.rawValue + moved)
            let index = held.firstIndex { $0.due > due } ?? held.endIndex
            held.insert(Held(due: due, socket: socket, destination: destination, bytes: bytes), at: index)
        }
        while !stopRequested.load(ordering: .relaxed) {
            let now = clock.now().rawValue
            while let first = held.first, first.due <= now {
                var destination = first.destination
                _ = first.bytes.withUnsafeBytes { bytes in
                    withUnsafePointer(to: &destination) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(first.socket, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
                held.removeFirst()
            }
            let wait = min(held.first.map { $0.due - clock.now().rawValue } ?? 10_000_000, 10_000_000)
            var timeout = timespec(tv_sec: 0, tv_nsec: Int(max(0, wait)))
            var descriptors = [pollfd(fd: senderSocket, events: Int16(POLLIN), revents: 0), pollfd(fd: boxSocket, events: Int16(POLLIN), revents: 0)]
            guard nanosecondPoll(&descriptors, 2, &timeout, nil) > 0 else { continue }
            for descriptor in descriptors where descriptor.revents & Int16(POLLIN) != 0 {
                var source = sockaddr_in()
                var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                let count = buffer.withUnsafeMutableBytes { bytes in
                    withUnsafeMutablePointer(to: &source) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(descriptor.fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), $0, &length) }
                    }
                }
                guard count > 0 else { continue }
                let bytes = Array(buffer[0..<count])
                if descriptor.fd == senderSocket {
                    sender = source
                    if Self.contains(bytes, "\"clock_echo\""), let sent = Self.probeSent(in: bytes), let box = probeSources[sent] {
                        let path = self.path(of: box)
                        hold(bytes, on: boxSocket, to: box, after: path.forward, jitter: path.jitter)
                        continue
                    }
                    switch delivery {
                    case .unicast(let boxes):
                        for box in boxes { hold(bytes, on: boxSocket, to: LoopbackSockets.address(port: Int(box.port), host: box.address), after: box.path.forward, jitter: box.path.jitter) }
                    case .multicast(let group, let port, let path):
                        hold(bytes, on: boxSocket, to: LoopbackSockets.address(port: Int(port), host: group), after: path.forward, jitter: path.jitter)
                    }
                } else if let sender, answersProbes {
                    if let sent = Self.probeSent(in: bytes) {
                        if probeSources.count > 4_096 { probeSources.removeAll() }
                        probeSources[sent] = source
                    }
                    let path = self.path(of: source)
                    hold(bytes, on: senderSocket, to: sender, after: path.back, jitter: path.jitter)
                }
            }
        }
    }

    /// The path to and from the box at `address` (multicast: the one path).
    private func path(of address: sockaddr_in) -> Path {
        switch delivery {
        case .multicast(_, _, let path): return path
        case .unicast(let boxes):
            return boxes.first { LoopbackSockets.address(port: Int($0.port), host: $0.address).sin_addr.s_addr == address.sin_addr.s_addr }?.path ?? Path(forward: .zero, back: .zero)
        }
    }

    private static func boundSocket(_ host: String) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        var address = LoopbackSockets.address(port: 0, host: host)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard descriptor >= 0, bound == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "relay: cannot bind \(host): \(String(cString: strerror(errno)))"])
        }
        return descriptor
    }

    private static func contains(_ bytes: [UInt8], _ text: String) -> Bool { bytes.firstRange(of: Array(text.utf8)) != nil }

    /// The digits of `"probe_sent":N` in a probe or echo line.
    private static func probeSent(in bytes: [UInt8]) -> String? {
        guard let range = bytes.firstRange(of: Array("\"probe_sent\":".utf8)) else { return nil }
        let digits = bytes[range.upperBound...].prefix { $0 == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        return digits.isEmpty ? nil : String(decoding: digits, as: UTF8.self)
    }
}

/// `ppoll(2)`: poll with a nanosecond timeout (Glibc declares it only with _GNU_SOURCE, which the
/// Swift module does not define).
@_silgen_name("ppoll")
private func nanosecondPoll(_ descriptors: UnsafeMutablePointer<pollfd>, _ count: UInt, _ timeout: UnsafePointer<timespec>?, _ mask: UnsafeRawPointer?) -> Int32
