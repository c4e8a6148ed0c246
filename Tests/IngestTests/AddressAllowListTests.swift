import Authentication
import Foundation
import Ingest
import NIOCore
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `--allow`: ranges parsed and matched, and senders from elsewhere dropped unread over real sockets.
@Suite struct AddressAllowListTests {
    static func address(_ text: String) -> SocketAddress { try! SocketAddress(ipAddress: text, port: 9000) }

    @Test func rangesMatchTheirAddressesInBothFamiliesAndIPv4MappedForms() throws {
        let list = try AddressAllowList(parsing: "192.168.1.0/24, 10.0.0.7,fd00::/8")
        #expect(list.allows(Self.address("192.168.1.200")))
        #expect(!list.allows(Self.address("192.168.2.1")))
        #expect(list.allows(Self.address("10.0.0.7")) && !list.allows(Self.address("10.0.0.8")))
        #expect(list.allows(Self.address("fd12:3456::1")) && !list.allows(Self.address("fe80::1")))
        // What a dual-stack socket reports for an IPv4 sender.
        #expect(list.allows(Self.address("::ffff:192.168.1.9")) && !list.allows(Self.address("::ffff:192.168.3.9")))
        #expect(!list.allows(nil))
        #expect(try AddressAllowList(parsing: "0.0.0.0/0").allows(Self.address("8.8.8.8")))
        let wide = try AddressAllowList(parsing: "10.1.2.3/12")
        #expect(wide.allows(Self.address("10.15.255.255")) && !wide.allows(Self.address("10.16.0.0")))
    }

    @Test(arguments: ["", "10.0.0.0/33", "fd00::/129", "300.1.1.1", "example.com", "10.0.0.0/x", "10.0.0.0/8,,"])
    func whatIsNotARangeIsAnErrorThatSaysWhatIsExpected(text: String) {
        #expect(throws: AddressAllowListError.self) { try AddressAllowList(parsing: text) }
    }

    @Test func sendersOutsideTheListAreDroppedUnreadAndCountedOverTCPAndUDP() async throws {
        let (server, tcp, udp) = try await IngestServerTests.startServer { $0.allowed = try! AddressAllowList(parsing: "10.0.0.0/8") }
        let socket = LoopbackSockets.connectTCP(port: tcp)
        LoopbackSockets.sendAll(socket, IngestServerTests.frameLine(0))
        // The connection is closed at once: the read sees its end.
        var byte: UInt8 = 0
        #expect(recv(socket, &byte, 1, 0) <= 0)
        close(socket)
        LoopbackSockets.sendDatagram(port: udp, IngestServerTests.frameLine(1))
        #expect(await eventually { server.counters.disallowed.value == 2 })
        #expect(server.counters.tcp.messages.value == 0 && server.counters.udp.messages.value == 0)
        #expect(try await server.withTable { $0.activeSessions.count } == 0)
        try await server.stop()
    }

    @Test func withKeysAndAllowBothApply() async throws {
        let key = try AuthenticationKey(id: "stage", secret: Array(repeating: 3, count: 32))
        for (allow, signed, played) in [("10.0.0.0/8", true, false), ("127.0.0.0/8", false, false), ("127.0.0.0/8", true, true)] {
            let (server, _, udp) = try await IngestServerTests.startServer {
                $0.allowed = try! AddressAllowList(parsing: allow)
                $0.keys = KeyRing([key])
            }
            var line = Array(IngestServerTests.frameLine(0).dropLast())
            if signed { LineSigner(key: key).sign(&line) }
            LoopbackSockets.sendDatagram(port: udp, line)
            #expect(await eventually { server.counters.disallowed.value + server.counters.unauthenticatedLines + server.counters.udp.messages.value >= 1 })
            let sessions = try await server.withTable { $0.activeSessions.count }
            #expect(sessions == (played ? 1 : 0), "allow \(allow), signed \(signed)")
            try await server.stop()
        }
    }

    @Test func sendersInsideTheListPlayAsUsual() async throws {
        let (server, tcp, udp) = try await IngestServerTests.startServer { $0.allowed = try! AddressAllowList(parsing: "127.0.0.0/8") }
        let socket = LoopbackSockets.connectTCP(port: tcp)
        LoopbackSockets.sendAll(socket, IngestServerTests.frameLine(0) + IngestServerTests.frameLine(1))
        LoopbackSockets.sendDatagram(port: udp, IngestServerTests.frameLine(2, session: "u"))
        #expect(try await eventually {
            let (tcpFrames, udpFrames) = (try await IngestServerTests.stored(server), try await IngestServerTests.stored(server, session: "u"))
            return tcpFrames == 2 && udpFrames == 1
        })
        #expect(server.counters.disallowed.value == 0)
        close(socket)
        try await server.stop()
    }
}
