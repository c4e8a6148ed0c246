import Authentication
import Core
import Foundation
import Ingest
import Synchronization
import TestSupport
import Testing
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// `jamsend --key` to an ingest server with `--keys`, over real loopback sockets, the server
/// taking the sender for another host's (so it must answer a challenge before it plays).
@Suite(.serialized) struct AuthenticatedSenderTests {
    static let secret = String(repeating: "5a", count: 32)

    static func keyFile(_ text: String = "stage \(secret)\n") -> String {
        let path = JamsendProcess.temporaryPath(".keys")
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        return path
    }

    static func remoteServer(keys path: String) async throws -> (IngestServer, tcp: Int, udp: Int) {
        let keys = KeyRing(try KeyFile.load(path))
        return try await JamsendIngestTests.startServer(sameHost: false) {
            $0.keys = keys
            $0.probeInterval = .milliseconds(50)
        }
    }

    @Test(arguments: ["--tcp", "--udp"])
    func aSignedRemoteSenderAnswersItsChallengeAndPlays(transport: String) async throws {
        let keys = Self.keyFile()
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let (server, tcp, udp) = try await Self.remoteServer(keys: keys)
        let outcome = try JamsendProcess.run(JamsendIngestTests.clockArguments + [
            "--to", "127.0.0.1:\(transport == "--tcp" ? tcp : udp)", transport, "--key", "stage:\(keys)", "--signal", "sine:440:0.5", "--duration", "1s",
        ])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let session = try await server.withTable { table in
            table.session(keyID: "stage", "jamsend").map { ($0.isVerified, $0.streams["main"]?.ring.stored ?? 0, $0.host.status.exchangesTaken) }
        }
        let (verified, stored, exchanges) = try #require(session)
        #expect(verified)
        // A frame or two went before the echo came back; every one after it is stored.
        #expect(stored >= 95, "of 100 frames")
        #expect(exchanges >= 5, "probes answered, each with its challenge")
        #expect(server.counters.unauthenticatedLines <= 2, "\(AuthenticationFailure.allCases.map { ($0, server.counters.authenticationFailed($0).value) })")
        #expect(server.counters.unexpectedEchoes.value == 0)
        try await server.stop()
    }

    @Test func aSenderWithAnotherSecretIsNeverPlayed() async throws {
        let keys = Self.keyFile(), wrong = Self.keyFile("stage \(String(repeating: "a5", count: 32))\n")
        defer { for path in [keys, wrong] { try? FileManager.default.removeItem(atPath: path) } }
        let (server, _, udp) = try await Self.remoteServer(keys: keys)
        let outcome = try JamsendProcess.run(JamsendIngestTests.clockArguments + [
            "--to", "127.0.0.1:\(udp)", "--udp", "--key", "stage:\(wrong)", "--signal", "sine", "--duration", "500ms",
        ])
        #expect(outcome.status == 0)
        #expect(try await server.withTable { $0.activeSessions.isEmpty })
        #expect(server.counters.authenticationFailed(.badMAC).value >= 45)
        try await server.stop()
    }

    /// A whole session recorded off the wire, played again later from another address: it is
    /// challenged, cannot answer, and never plays.
    @Test func aRecordedSessionReplayedLaterFromAnotherAddressNeverPlays() async throws {
        let keys = Self.keyFile()
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let (server, _, udp) = try await Self.remoteServer(keys: keys)
        let tap = try DatagramTap(forwardingTo: udp)
        let outcome = try JamsendProcess.run(JamsendIngestTests.clockArguments + [
            "--to", "127.0.0.1:\(tap.port)", "--udp", "--key", "stage:\(keys)", "--signal", "impulse:100ms", "--duration", "1s",
        ])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let recording = tap.stop()
        #expect(recording.count >= 100, "frames, calibration blocks and echoes recorded")
        #expect(try await server.withTable { $0.session(keyID: "stage", "jamsend")?.streams["main"]?.ring.stored ?? 0 } >= 95)
        // The live session ends; its recording comes again from another socket.
        try await server.withTable { $0.expire(now: SystemMonotonicClock().now() + .seconds(3_600)) }
        let unverifiedBefore = server.counters.authenticationFailed(.unverified).value
        let replayer = LoopbackSockets.udpSocket()
        defer { close(replayer) }
        var replies = 0
        for datagram in recording {
            LoopbackSockets.sendDatagram(port: udp, datagram, from: replayer)
            usleep(2_000)
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while recv(replayer, &buffer, buffer.count, Int32(MSG_DONTWAIT)) > 0 { replies += 1 }
        }
        let replayed = try await server.withTable { table in
            table.session(keyID: "stage", "jamsend").map { ($0.isVerified, $0.streams.count) }
        }
        let (verified, streams) = try #require(replayed)
        #expect(!verified && streams == 0)
        #expect(server.counters.streamsActive.value == 0)
        #expect(server.counters.authenticationFailed(.unverified).value - unverifiedBefore >= 95)
        #expect(replies >= 1, "the replayer was sent challenges")
        try await server.stop()
    }
}

/// A UDP relay on loopback that forwards a sender's datagrams to a server, and the server's
/// replies back, recording what the sender sent.
final class DatagramTap: Sendable {
    let port: Int
    private let socket: Int32
    private let stopped = Atomic<Bool>(false)
    private let recorded = Mutex<[[UInt8]]>([])
    private let done = DispatchSemaphore(value: 0)

    struct SocketError: Error {}

    init(forwardingTo server: Int) throws {
        let descriptor = LoopbackSockets.udpSocket()
        var address = LoopbackSockets.address(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw SocketError() }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        socket = descriptor
        port = Int(UInt16(bigEndian: local.sin_port))
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            var sender: Int?
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while !stopped.load(ordering: .relaxed) {
                var from = sockaddr_in()
                var fromLength = socklen_t(MemoryLayout<sockaddr_in>.size)
                let count = withUnsafeMutablePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(descriptor, &buffer, buffer.count, 0, $0, &fromLength) }
                }
                guard count > 0 else { continue }
                let datagram = Array(buffer[0..<count])
                let fromPort = Int(UInt16(bigEndian: from.sin_port))
                if fromPort == server {
                    guard let sender else { continue }
                    LoopbackSockets.sendDatagram(port: sender, datagram, from: descriptor)
                } else {
                    sender = fromPort
                    recorded.withLock { $0.append(datagram) }
                    LoopbackSockets.sendDatagram(port: server, datagram, from: descriptor)
                }
            }
        }
    }

    /// Stops relaying; what the sender sent, in order.
    func stop() -> [[UInt8]] {
        stopped.store(true, ordering: .relaxed)
        done.wait()
        close(socket)
        return recorded.withLock { $0 }
    }
}
