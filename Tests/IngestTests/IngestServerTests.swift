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

/// The listeners over real loopback sockets.
@Suite struct IngestServerTests {
    static func frameLine(_ number: Int, session: String = "s", samples: Int = 32, channels: Int = 1) -> [UInt8] {
        var bytes: [UInt8] = []
        let header = AudioFrameHeader(
            timestamp: .cpu(1_000_000_000_000 + Int64(number) * Int64(samples) * 1_000_000_000 / 48_000), sessionID: session, streamID: "main",
            sequence: UInt64(number), channelCount: ChannelCount(channels))
        let payload = (0..<samples * channels).map { Float(($0 + number) % 97) / 97 - 0.5 }
        try! JamnetEncoder().encode(header, samples: payload, into: &bytes)
        return bytes + [UInt8(ascii: "\n")]
    }

    static func startServer(_ configure: (inout IngestConfiguration) -> Void = { _ in }) async throws -> (IngestServer, tcp: Int, udp: Int) {
        var configuration = IngestConfiguration()
        // A session must outlive a test task that the busy test run leaves unscheduled for
        // seconds (a CI run lost both sessions of a test to the 5 s timeout before its first check).
        configuration.sessionTimeout = .seconds(600)
        configure(&configuration)
        let server = IngestServer(listen: ListenAddress(host: "127.0.0.1", port: 0), configuration: configuration)
        let ports = try await server.start()
        return (server, ports.tcp!, ports.udp!)
    }

    static func stored(_ server: IngestServer, session: String = "s") async throws -> Int {
        try await server.withTable { table in
            table.activeSessions.filter { $0.sessionID == session }.reduce(0) { $0 + ($1.streams["main"]?.ring.stored ?? 0) }
        }
    }

    @Test func tcpLinesSplitAcrossWritesAtEveryByteBoundaryArriveWhole() async throws {
        let (server, tcp, udp) = try await Self.startServer()
        #expect(tcp == udp)  // one port for both
        let lines = (0..<400).map { Self.frameLine($0) }
        let socket = LoopbackSockets.connectTCP(port: tcp)
        for (number, line) in lines.enumerated() {
            let cut = number % (line.count + 1)  // every boundary of a line, over the frames
            LoopbackSockets.sendAll(socket, line[..<cut])
            usleep(200)
            LoopbackSockets.sendAll(socket, line[cut...])
        }
        close(socket)
        #expect(try await eventually { try await Self.stored(server) == 400 })
        #expect(server.counters.tcp.messages.value == 400 && server.counters.rejected(.jsonError).value == 0)
        try await server.stop()
    }

    @Test func junkBetweenValidFramesIsCountedAndEveryValidFrameStillArrives() async throws {
        let (server, tcp, udp) = try await Self.startServer()
        let junk: [[UInt8]] = [
            Array("{\"type\":\"jdat\",\"payload\":[1,2\n".utf8),                      // json-error
            Array("[1,2,3]\n".utf8),                                                   // not-a-message
            Array("{\"type\":\"jdat\",\"version\":\"jamnet/2.0\"}\n".utf8),         // unsupported-version
            Array("{\"type\":\"jdat\",\"timestamp_cpu\":1.5,\"payload\":[]}\n".utf8), // invalid-field
            Array("{\"type\":\"telemetry\"}\n".utf8),                              // unknown-type
            [0xFF, 0xFE, 0x0A],                                                         // json-error (bad UTF-8)
        ]
        let socket = LoopbackSockets.connectTCP(port: tcp)
        for number in 0..<60 {
            LoopbackSockets.sendAll(socket, Self.frameLine(number))
            LoopbackSockets.sendAll(socket, junk[number % junk.count])
        }
        close(socket)
        let datagrams = LoopbackSockets.udpSocket()
        defer { close(datagrams) }
        for number in 0..<30 {
            // Junk and a valid frame in one datagram: the frame still counts.
            LoopbackSockets.sendDatagram(port: udp, junk[number % junk.count] + Self.frameLine(number, session: "u"), from: datagrams)
        }
        #expect(try await eventually {
            let tcpFrames = try await Self.stored(server)
            let udpFrames = try await Self.stored(server, session: "u")
            return tcpFrames == 60 && udpFrames == 30
        })
        let counters = server.counters
        #expect(counters.rejected(.jsonError).value == 30)
        #expect(counters.rejected(.notAMessage).value == 15)
        #expect(counters.rejected(.unsupportedVersion).value == 15)
        #expect(counters.rejected(.invalidField).value == 15)
        #expect(counters.rejected(.unknownType).value == 15)
        try await server.stop()
    }

    @Test func manyConnectionsAtOnceEachLandInTheirOwnSession() async throws {
        let (server, tcp, _) = try await Self.startServer()
        let sockets = (0..<20).map { _ in LoopbackSockets.connectTCP(port: tcp) }
        for number in 0..<30 {
            for (index, socket) in sockets.enumerated() { LoopbackSockets.sendAll(socket, Self.frameLine(number, session: "c\(index)")) }
        }
        sockets.forEach { close($0) }
        let landed = try await eventually {
            try await server.withTable { $0.activeSessions.map { $0.streams["main"]?.ring.stored ?? 0 } } == [Int](repeating: 30, count: 20)
        }
        let counters = server.counters
        #expect(landed, "sessions \(counters.sessionsActive.value), lines \(counters.tcp.messages.value), late \(counters.late.value), duplicates \(counters.duplicates.value), overflows \(counters.overflows.value), refused \(counters.refusedConnections.value)")
        #expect(server.counters.sessionsActive.value == 20)
        try await server.stop()
    }

    @Test func udpDatagramsOfSeveralLinesAndOf60KilobytesAreReadWhole() async throws {
        let (server, _, udp) = try await Self.startServer()
        let socket = LoopbackSockets.udpSocket()
        defer { close(socket) }
        // Five lines to a datagram, the last without its newline.
        var datagram = (0..<5).flatMap { Self.frameLine($0) }
        datagram.removeLast()
        LoopbackSockets.sendDatagram(port: udp, datagram, from: socket)
        // ~60 KB: stereo frames of 480 samples, as many as fit.
        var big: [UInt8] = []
        var number = 5
        while true {
            let line = Self.frameLine(number, samples: 480, channels: 2)
            guard big.count + line.count <= 60_000 else { break }
            big += line
            number += 1
        }
        LoopbackSockets.sendDatagram(port: udp, big, from: socket)
        #expect(big.count > 50_000)
        let expected = number
        #expect(try await eventually { try await server.withTable { $0.activeSessions.count } == 1 })
        // The two formats (mono, then stereo) are two streams in turn: count every line.
        #expect(await eventually { server.counters.udp.messages.value == expected })
        #expect(server.counters.rejected(.jsonError).value == 0 && server.counters.rejected(.lineTooLong).value == 0)
        try await server.stop()
    }

    @Test func connectionsThatNeverSendAreClosedAndTheLimitRefusesMore() async throws {
        let (server, tcp, udp) = try await Self.startServer { configuration in
            configuration.maximumConnections = 4
            configuration.idleConnectionTimeout = .milliseconds(300)
        }
        let idle = (0..<6).map { _ in LoopbackSockets.connectTCP(port: tcp) }
        #expect(await eventually { server.counters.refusedConnections.value == 2 })
        // Meanwhile UDP senders are served.
        for number in 0..<10 { LoopbackSockets.sendDatagram(port: udp, Self.frameLine(number)) }
        // Every idle connection is closed: two at once (over the limit), four after the timeout.
        for socket in idle { #expect(LoopbackSockets.isClosedByPeer(socket, timeout: 5)) }
        idle.forEach { close($0) }
        let early = server.counters.udp.messages.value
        #expect(await eventually { server.counters.udp.messages.value == 10 }, "\(early) then \(server.counters.udp.messages.value)")
        try await server.stop()
    }

    @Test func aConnectionThatEndsNoLineIsClosedHoweverOftenItSendsAByteAndOneSendingLinesIsKept() async throws {
        let (server, tcp, _) = try await Self.startServer { $0.idleConnectionTimeout = .milliseconds(400) }
        let dribbling = LoopbackSockets.connectTCP(port: tcp), talking = LoopbackSockets.connectTCP(port: tcp)
        defer { close(dribbling); close(talking) }
        var closedAfter: Int?
        for step in 0..<30 {  // 3 s: a byte of one endless line every 100 ms, and a whole line
            if closedAfter == nil { LoopbackSockets.sendAll(dribbling, [UInt8(ascii: "x")]) }
            LoopbackSockets.sendAll(talking, Self.frameLine(step + 1))
            usleep(100_000)
            if closedAfter == nil, LoopbackSockets.isClosedByPeer(dribbling, timeout: 0) { closedAfter = step }
        }
        #expect(closedAfter != nil, "the dribbling connection was kept open")
        #expect(!LoopbackSockets.isClosedByPeer(talking, timeout: 0.2))
        #expect(try await eventually { try await Self.stored(server) == 30 })
        try await server.stop()
    }

    @Test func aFloodWithoutNewlinesIsDiscardedWithMemoryBounded() async throws {
        let (server, tcp, _) = try await Self.startServer()
        let before = LoopbackSockets.residentBytes()
        let socket = LoopbackSockets.connectTCP(port: tcp)
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        for _ in 0..<512 { LoopbackSockets.sendAll(socket, chunk) }  // one 512 MiB line
        LoopbackSockets.sendAll(socket, [UInt8(ascii: "\n")] + Self.frameLine(0))
        close(socket)
        #expect(try await eventually { try await Self.stored(server) == 1 })
        #expect(server.counters.rejected(.lineTooLong).value == 1)
        // Had the line been kept, the process would have grown by 512 MiB; other tests running
        // beside this one account for the allowance.
        #expect(LoopbackSockets.residentBytes() - before < 192 << 20)
        try await server.stop()
    }
}

/// The ingest path behind a lossy, reordering, duplicating network.
@Suite struct IngestFaultTests {
    @Test func lossReorderingAndDuplicatesLeaveEveryFrameThatArrivedInItsPlace() async throws {
        let (server, _, udp) = try await IngestServerTests.startServer()
        let proxy = FaultProxy(forwardingTo: udp, faults: .init(drop: 0.02, duplicate: 0.02, reorder: 0.05, jitterMicroseconds: 200), seed: 11)
        let socket = LoopbackSockets.udpSocket()
        let frames = 600
        for number in 0..<frames {
            LoopbackSockets.sendDatagram(port: proxy.port, IngestServerTests.frameLine(number, samples: 48), from: socket)
            if number % 10 == 9 { usleep(5_000) }  // let the proxy keep up: no losses but its own
        }
        usleep(100_000)
        proxy.stop()
        close(socket)
        #expect(proxy.received == frames)
        let dropped = Set(proxy.dropped)
        // Frame 0 is the stream's first (index 0) unless the proxy dropped it.
        #expect(!dropped.contains(0))
        let arrived = frames - dropped.count
        #expect(try await eventually { try await IngestServerTests.stored(server) == arrived })
        #expect(server.counters.duplicates.value == proxy.duplicated.filter { !dropped.contains($0) }.count)
        #expect(server.counters.reordered.value > 0)
        // Read back in order: each frame's samples where it arrived, silence where it was lost.
        let samples = try #require(try await server.withTable { table -> [Float]? in
            guard let ring = table.activeSessions.first?.streams["main"]?.ring else { return nil }
            var output = [Float](repeating: .nan, count: frames * 48)
            _ = output.withUnsafeMutableBufferPointer { ring.read(from: 0, frameCount: frames * 48, into: $0) }
            return output
        })
        var misplaced = 0
        for number in 0..<frames {
            let expected = dropped.contains(number) ? [Float](repeating: 0, count: 48) : (0..<48).map { Float(($0 + number) % 97) / 97 - 0.5 }
            if Array(samples[number * 48 ..< (number + 1) * 48]) != expected { misplaced += 1 }
        }
        #expect(misplaced == 0)
        try await server.stop()
    }

    @Test func aSenderRestartingWithANewSessionIDEndsTheOldSession() async throws {
        let (server, _, udp) = try await IngestServerTests.startServer()
        let socket = LoopbackSockets.udpSocket()
        defer { close(socket) }
        for number in 0..<10 { LoopbackSockets.sendDatagram(port: udp, IngestServerTests.frameLine(number, session: "before"), from: socket) }
        for number in 0..<10 { LoopbackSockets.sendDatagram(port: udp, IngestServerTests.frameLine(number, session: "after"), from: socket) }
        #expect(try await eventually { try await IngestServerTests.stored(server, session: "after") == 10 })
        let ending = try await server.withTable { table in table.activeSessions.map { ($0.sessionID ?? "", $0.isEnding) }.sorted { $0.0 < $1.0 } }
        #expect(ending.map(\.0) == ["after", "before"] && ending.map(\.1) == [false, true])
        try await server.stop()
    }
}

/// Remote senders' clocks, measured with `clock_probe` / `clock_echo` (jamnet/1.1).
@Suite struct ClockProbeTests {
    @Test func aRemoteSenderIsProbedAndItsEchoesMeasureItsClock() async throws {
        var configuration = IngestConfiguration()
        configuration.probeInterval = .milliseconds(50)
        configuration.sessionTimeout = .seconds(600)  // as in `IngestServerTests.startServer`
        // Treat loopback as remote, so the exchange runs here.
        let server = IngestServer(listen: ListenAddress(host: "127.0.0.1", port: 0), configuration: configuration, isSameHost: { _ in false })
        let udp = try await server.start().udp!
        let socket = LoopbackSockets.udpSocket()
        defer { close(socket) }
        LoopbackSockets.sendDatagram(port: udp, IngestServerTests.frameLine(0), from: socket)

        // The sender's clock reads 3 s ahead of ours; a thread of its own answers probes at once,
        // as jamsend does, until the server has five exchanges it keeps (a loaded machine
        // stretches some round trips, which the filter rightly drops).
        let senderAhead: Int64 = 3_000_000_000
        let answerer = ProbeAnswerer(socket: socket, port: udp, clockAhead: Nanoseconds(senderAhead))
        defer { answerer.stop() }
        _ = try await eventually(within: 60) { try await server.withTable { $0.activeSessions.first?.host.status.exchangesTaken ?? 0 } >= 5 }
        let found = try await server.withTable { $0.activeSessions.first?.host.status }
        let status = try #require(found, "the session ended before five exchanges were kept")
        #expect(status.exchangesTaken >= 5)
        #expect(status.mode == .twoWay)
        // Local − sender = −3 s, to within the round trip on loopback (well under a millisecond).
        #expect(abs(status.offset.rawValue + senderAhead) < 5_000_000)
        try await server.stop()
    }
}

/// Answers a receiver's clock probes from `socket` as a sender whose clock reads `clockAhead` ahead
/// would, on a thread of its own (its blocking reads stay off the shared pool), until stopped.
final class ProbeAnswerer: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)

    init(socket: Int32, port: Int, clockAhead: Nanoseconds) {
        Thread.detachNewThread { [self] in
            defer { stopped.signal() }
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var decoder = JamnetDecoder()
            var none: [Float] = []
            var buffer = [UInt8](repeating: 0, count: 2_048)
            while !stopping.load(ordering: .relaxed) {
                // Answer the newest probe waiting: on a loaded machine a pass can take longer than
                // the server keeps a probe's id, and older ones would only be refused.
                var newest: ClockProbe?
                var flags: Int32 = 0
                while case let count = buffer.withUnsafeMutableBytes({ recv(socket, $0.baseAddress, $0.count, flags) }), count > 0 {
                    if case .clockProbe(let probe) = decoder.decode(buffer[..<count].dropLast(), samples: &none) { newest = probe }
                    flags = Int32(MSG_DONTWAIT)
                }
                guard let probe = newest else { continue }
                let now = SystemMonotonicClock().now() + clockAhead
                var echo: [UInt8] = []
                try? JamnetEncoder().encode(ClockEcho(probeID: probe.probeID, probeSent: probe.probeSent, probeReceived: now, echoSent: now,
                                                      sessionID: probe.sessionID), into: &echo)
                LoopbackSockets.sendDatagram(port: port, echo, from: socket)
            }
        }
    }

    /// Stops answering; returns once the thread has.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        stopped.wait()
    }
}

/// `--listen :PORT` listens on every interface, IPv4 and IPv6 alike.
@Suite struct DualStackTests {
    @Test func theWildcardListenerTakesIPv4AndIPv6Senders() async throws {
        // Each session gets one frame: on a loaded machine the three may take longer to be seen
        // together than a session's default silence allows.
        var configuration = IngestConfiguration()
        configuration.sessionTimeout = .seconds(120)
        let server = IngestServer(listen: ListenAddress(host: nil, port: 0), configuration: configuration)
        let ports = try await server.start()
        // IPv4 over TCP and UDP to the IPv6 wildcard socket.
        let tcp = LoopbackSockets.connectTCP(port: ports.tcp!)
        LoopbackSockets.sendAll(tcp, IngestServerTests.frameLine(0, session: "v4-tcp"))
        close(tcp)
        LoopbackSockets.sendDatagram(port: ports.udp!, IngestServerTests.frameLine(0, session: "v4-udp"))
        // IPv6 (::1) over UDP.
        let socket6 = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(socket6) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(UInt16(ports.udp!).bigEndian)
        address.sin6_addr = in6addr_loopback
        let line = IngestServerTests.frameLine(0, session: "v6-udp")
        let sent = line.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(socket6, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        }
        #expect(sent == line.count)
        #expect(try await eventually { Set(try await server.withTable { $0.activeSessions.compactMap(\.sessionID) }) == ["v4-tcp", "v4-udp", "v6-udp"] })
        // Loopback in either family is this host.
        #expect(try await server.withTable { $0.activeSessions.allSatisfy { $0.host.mode == .sameHost } })
        try await server.stop()
    }
}
