import Core
import Testing
@testable import Wire

/// TCP and UDP framing: partial reads, CRLF, overlong and empty lines.
@Suite struct LineFramerTests {
    enum Framed: Equatable {
        case line(String, Int)
        case tooLong(Int, Int)
    }

    private static func record(_ event: LineFramer.Event, into events: inout [Framed]) {
        switch event {
        case .line(let bytes, let number): events.append(.line(String(decoding: bytes, as: UTF8.self), number))
        case .tooLong(let length, let number): events.append(.tooLong(length.rawValue, number))
        }
    }

    private static func frame(_ chunks: [[UInt8]], limit: Int = 1 << 20) -> [Framed] {
        var framer = LineFramer(limit: ByteCount(limit))
        var events: [Framed] = []
        for chunk in chunks { chunk.withUnsafeBytes { framer.feed($0) { record($0, into: &events) } } }
        framer.finish { record($0, into: &events) }
        return events
    }

    @Test func linesSplitAcrossReadsAtEveryByteBoundaryFrameTheSame() {
        let stream = Array("{\"type\":\"jdat\"}\r\n\n{\"a\":1}\nlast".utf8)
        let expected: [Framed] = [.line("{\"type\":\"jdat\"}", 1), .line("{\"a\":1}", 3), .line("last", 4)]
        #expect(Self.frame([stream]) == expected)
        for first in 0...stream.count {
            for second in first...stream.count {
                let chunks = [Array(stream[..<first]), Array(stream[first..<second]), Array(stream[second...])]
                #expect(Self.frame(chunks) == expected, "cuts at \(first), \(second)")
            }
        }
        #expect(Self.frame(stream.map { [$0] }) == expected)
    }

    @Test func crlfAndLFEndingsAreBothAcceptedAndOnlyOneCRIsDropped() {
        #expect(Self.frame([Array("a\r\nb\nc\r\r\n".utf8)]) == [.line("a", 1), .line("b", 2), .line("c\r", 3)])
    }

    @Test func emptyLinesAreSkippedButCounted() {
        #expect(Self.frame([Array("\n\r\n\nx\n\n".utf8)]) == [.line("x", 4)])
        #expect(Self.frame([]) == [])
    }

    @Test func anOverlongLineIsDiscardedToItsNewlineAndReportedOnce() {
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: 5000)
        let stream = Array("ok1\n".utf8) + long + Array("\nok2\n".utf8)
        #expect(Self.frame([stream], limit: 100) == [.line("ok1", 1), .tooLong(5000, 2), .line("ok2", 3)])
        // The same across many small reads.
        let chunks = stride(from: 0, to: stream.count, by: 7).map { Array(stream[$0..<min($0 + 7, stream.count)]) }
        #expect(Self.frame(chunks, limit: 100) == [.line("ok1", 1), .tooLong(5000, 2), .line("ok2", 3)])
        // Unterminated at the end of the stream.
        #expect(Self.frame([Array("ok\n".utf8) + long], limit: 100) == [.line("ok", 1), .tooLong(5000, 2)])
    }

    @Test func aLineOfExactlyTheLimitIsAcceptedWithOrWithoutCR() {
        let limit = String(repeating: "y", count: 64)
        #expect(Self.frame([Array("\(limit)\r\n\(limit)\n\(limit)z\n".utf8)], limit: 64)
            == [.line(limit, 1), .line(limit, 2), .tooLong(65, 3)])
        // Split so the CR arrives in its own read.
        #expect(Self.frame([Array(limit.utf8), Array("\r".utf8), Array("\n".utf8)], limit: 64) == [.line(limit, 1)])
    }

    @Test(arguments: [1, 7, 1000, 65536])
    func memoryStaysBoundedWhateverTheLineLength(chunkSize: Int) {
        let limit = 10_000
        var framer = LineFramer(limit: ByteCount(limit))
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: chunkSize)
        var events: [Framed] = []
        var fed = 0
        while fed < 1 << 20 {  // 1 MiB without a newline
            chunk.withUnsafeBytes { framer.feed($0) { Self.record($0, into: &events) } }
            fed += chunkSize
            #expect(framer.bufferedByteCount <= limit + 1 + 64)  // 64: malloc's rounding
        }
        Array("\n".utf8).withUnsafeBytes { framer.feed($0) { Self.record($0, into: &events) } }
        #expect(events == [.tooLong(fed, 1)])
    }

    @Test func aDatagramHoldsOneOrMoreLinesAndTheLastNewlineIsOptional() {
        func lines(_ text: String, limit: Int = 1 << 20) -> [Framed] {
            var events: [Framed] = []
            Array(text.utf8).withUnsafeBytes { LineFramer.forEachLine(inDatagram: $0, limit: ByteCount(limit)) { Self.record($0, into: &events) } }
            return events
        }
        #expect(lines("{\"a\":1}") == [.line("{\"a\":1}", 1)])
        #expect(lines("{\"a\":1}\n{\"b\":2}\r\n{\"c\":3}") == [.line("{\"a\":1}", 1), .line("{\"b\":2}", 2), .line("{\"c\":3}", 3)])
        #expect(lines("one\ntwo\n") == [.line("one", 1), .line("two", 2)])
        #expect(lines("short\n" + String(repeating: "z", count: 50), limit: 10) == [.line("short", 1), .tooLong(50, 2)])
    }

    @Test func aSixtyKilobyteDatagramOfFramesDecodesFully() throws {
        // What a UDP sender packs into one datagram: many complete frames.
        var datagram: [UInt8] = []
        var expected = 0
        while datagram.count < 60_000 {
            try JamnetEncoder().encode(AudioFrameHeader(timestamp: .cpu(Int64(expected)), sequence: UInt64(expected)), samples: [Float](repeating: 0.125, count: 480), into: &datagram)
            datagram.append(UInt8(ascii: "\n"))
            expected += 1
        }
        var decoder = JamnetDecoder()
        var samples = [Float](repeating: 0, count: 480)
        var sequences: [UInt64] = []
        datagram.withUnsafeBytes { raw in
            LineFramer.forEachLine(inDatagram: raw) { event in
                guard case .line(let line, _) = event else { return }
                if case .audioFrame(let header, 480, 0) = samples.withUnsafeMutableBufferPointer({ decoder.decode(line, samples: $0) }) {
                    sequences.append(header.sequence!)
                }
            }
        }
        #expect(sequences == (0..<UInt64(expected)).map { $0 })
    }
}
