import Foundation
import Operations
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The operations port's HTTP server, in process: it answers GET and HEAD with what its responder
/// says, refuses other methods, and holds no more connections than its limit.
@Suite struct OperationsServerTests {
    /// A server whose responder answers `/hello` and nothing else.
    static func helloServer() async throws -> OperationsServer {
        try await OperationsServer.start(host: "127.0.0.1", port: 0) { path in
            path == "/hello"
                ? .init(contentType: "text/plain", body: Array("hello\n".utf8))
                : .init(status: .notFound, contentType: "text/plain", body: Array("no\n".utf8))
        }
    }

    /// One request on a fresh connection (the socket blocks: off the shared pool).
    static func request(_ path: String, method: String = "GET", port: Int) async -> (status: Int, head: String, body: String)? {
        await offThePool { LoopbackSockets.httpRequest(path, method: method, port: port) }
    }

    @Test func getAndHeadAreAnsweredByTheResponderAndOtherMethodsAreRefused() async throws {
        let server = try await Self.helloServer()
        let port = server.port
        let hello = try #require(await Self.request("/hello?x=1", port: port))
        #expect(hello.status == 200 && hello.body == "hello\n")
        #expect(hello.head.lowercased().contains("content-length: 6"))
        let head = try #require(await Self.request("/hello", method: "HEAD", port: port))
        #expect(head.status == 200 && head.body.isEmpty)
        #expect(await Self.request("/elsewhere", port: port)?.status == 404)
        #expect(await Self.request("/hello", method: "POST", port: port)?.status == 405)
        await server.stop()
    }

    @Test func connectionsBeyondTheLimitAreClosedAndTheServerStillAnswers() async throws {
        let server = try await Self.helloServer()
        let port = server.port
        let (extraRead, heldAnswer) = await offThePool { () -> (Int, String) in
            var timeout = timeval(tv_sec: 30, tv_usec: 0)  // generous: the responder runs on the shared pool, busy under parallel suites
            // Held open without a request: each takes one of the server's connections.
            let held = (0..<OperationsServer.maximumConnections).map { _ in LoopbackSockets.connectTCP(port: port) }
            defer { held.forEach { close($0) } }
            // The server accepts them in turn; one more is accepted by the kernel and closed by
            // the server at once, so a read sees the end.
            Thread.sleep(forTimeInterval: 0.5)
            let extra = LoopbackSockets.connectTCP(port: port)
            defer { close(extra) }
            setsockopt(extra, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var byte: UInt8 = 0
            let extraRead = recv(extra, &byte, 1, 0)
            // A held connection still gets its answer.
            LoopbackSockets.sendAll(held[0], Array("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
            setsockopt(held[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 4_096)
            let count = recv(held[0], &buffer, buffer.count, 0)
            return (extraRead, String(decoding: buffer[0..<max(0, count)], as: UTF8.self))
        }
        #expect(extraRead == 0, "the connection over the limit was not closed (recv gave \(extraRead))")
        #expect(heldAnswer.hasPrefix("HTTP/1.1 200") && heldAnswer.hasSuffix("hello\n"), "\(heldAnswer)")
        await server.stop()
    }
}
