import Authentication
import Core
import Foundation
import Synchronization
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// One TCP connection or connected UDP socket to the receiver, with a thread that answers its
/// `clock_probe`s.
///
/// Writes come from the sender loop and from the probe thread, serialized by a mutex. A TCP write
/// that fails or times out (the receiver stalls) marks the connection closed; the sender reconnects.
/// Thread: any (writes are serialized).
public final class SocketConnection: Sendable {
    /// TCP or UDP.
    public enum Transport: String, Sendable, CaseIterable {
        case tcp, udp
    }

    /// Why a connection could not be made.
    public struct ConnectError: Error, CustomStringConvertible {
        /// What failed, with the system's words.
        public let description: String
    }

    /// The transport.
    public let transport: Transport
    /// Probes answered on this connection.
    public let probesAnswered = AtomicCounter()
    private let descriptor: Int32
    private let writeLock = Mutex(())
    private let open = Atomic<Bool>(true)
    private let readerDone = DispatchSemaphore(value: 0)

    /// Connects (TCP within `timeout`), then starts answering probes for `sessionID` (with
    /// `signer`, only probes signed by its key, and the echoes signed).
    public init(to destination: SenderDestination, transport: Transport, sessionID: String?, signer: LineSigner? = nil,
                timeout: Nanoseconds = .milliseconds(500)) throws(ConnectError) {
        self.transport = transport
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(transport == .tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(destination.host, String(destination.port), &hints, &results)
        guard status == 0, let first = results else {
            throw ConnectError(description: "\(destination): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(results) }
        var lastError = "no address"
        var connected: Int32 = -1
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate, connected < 0 {
            candidate = info.pointee.ai_next
            let socketDescriptor = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            guard socketDescriptor >= 0 else { lastError = SystemError.current.description; continue }
            // Linux bounds a blocking connect and every send by SO_SNDTIMEO: a stalled receiver
            // cannot stop the paced loop for longer than this.
            var limit = timeval(tv_sec: Int(timeout.rawValue / 1_000_000_000), tv_usec: Int(timeout.rawValue % 1_000_000_000 / 1000))
            setsockopt(socketDescriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            if connect(socketDescriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                connected = socketDescriptor
            } else {
                lastError = SystemError.current.description
                Glibc.close(socketDescriptor)
            }
        }
        guard connected >= 0 else { throw ConnectError(description: "\(destination) (\(transport.rawValue)): \(lastError)") }
        descriptor = connected
        if transport == .tcp {
            var one: Int32 = 1
            setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        Thread.detachNewThread { [self] in answerProbes(ClockProbeResponder(sessionID: sessionID, signer: signer)) }
    }

    // The probe thread holds the connection until it ends, so this runs after it (see `close()`).
    deinit { Glibc.close(descriptor) }

    /// Whether the connection still works (a TCP peer that closed or failed makes it false).
    public var isOpen: Bool { open.load(ordering: .acquiring) }

    /// Sends `bytes` whole (one datagram over UDP); false when the connection failed.
    public func write(_ bytes: [UInt8]) -> Bool {
        guard isOpen else { return false }
        let sent = writeLock.withLock { _ in
            bytes.withUnsafeBytes { buffer -> Bool in
                var offset = 0
                while offset < buffer.count {
                    let count = send(descriptor, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                    if count < 0 && errno == EINTR { continue }
                    // UDP: a refused datagram (nobody listening yet) is lost, not a broken link.
                    if count < 0 && transport == .udp { return true }
                    guard count > 0 else { return false }
                    offset += count
                }
                return true
            }
        }
        if !sent { markClosed() }
        return sent
    }

    /// Refuses further writes, stops the probe thread and waits for it; the socket closes with
    /// the object. Call it before dropping the connection.
    public func close() {
        markClosed()
        readerDone.wait()
        readerDone.signal()  // a second close returns at once
    }

    /// Refuses further writes and wakes the probe thread (which may call this itself).
    private func markClosed() {
        if open.exchange(false, ordering: .acquiringAndReleasing) { shutdown(descriptor, Int32(SHUT_RDWR)) }
    }

    /// The probe thread: reads lines from the receiver and answers probes until the connection ends.
    private func answerProbes(_ responder: consuming ClockProbeResponder) {
        defer { readerDone.signal() }
        var responder = responder
        var framer = LineFramer(limit: .kibibytes(64))
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let clock = SystemMonotonicClock()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while isOpen {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            let received = clock.now()
            if count < 0 && (errno == EAGAIN || errno == EINTR || (transport == .udp && errno == ECONNREFUSED)) { continue }
            if count <= 0 && transport == .tcp {
                // The receiver closed or the connection failed: the sender loop reconnects.
                markClosed()
                return
            }
            guard count >= 0 else { continue }
            var echoes: [[UInt8]] = []
            let handle: (LineFramer.Event) -> Void = { event in
                if case .line(let line, _) = event, let echo = responder.answer(line, received: received, now: clock.now) { echoes.append(echo) }
            }
            buffer.withUnsafeBytes { bytes in
                let chunk = UnsafeRawBufferPointer(rebasing: bytes[0..<count])
                if transport == .tcp { framer.feed(chunk, handle) } else { LineFramer.forEachLine(inDatagram: chunk, handle) }
            }
            for echo in echoes where write(echo) { probesAnswered.add() }
        }
    }
}
