import Buffer
import Core
import Foundation
import Ingest
import NIOCore
import NIOPosix
import Synchronization
import Wire
#if canImport(Glibc)
import Glibc
#endif

// `make bench`: ingest throughput into the rings over TCP and over UDP on loopback — beside
// decoding the same lines alone, so the cost of networking and buffering shows — and the ingest
// thread's CPU for one real-time 48 kHz stereo stream of 480-sample frames, beside two receivers
// of the same stream that do less: SwiftNIO dropping what it reads, and a bare poll + read loop.

let framesPerLine = 480
let channels = 2
let lineCount = 3_000

func lines(session: String) -> [[UInt8]] {
    var random = SystemRandomNumberGenerator()
    return (0..<lineCount).map { number in
        var line: [UInt8] = []
        let samples = (0..<framesPerLine * channels).map { index in
            Float(0.5 * sin(Double(number * framesPerLine + index / 2) * 0.0575)) + Float.random(in: -0.01...0.01, using: &random)
        }
        let header = AudioFrameHeader(
            timestamp: .cpu(1_000_000_000_000 + Int64(number) * 10_000_000), sessionID: session, streamID: "main", sequence: UInt64(number),
            channelCount: ChannelCount(channels))
        try! JamnetEncoder().encode(header, samples: samples, into: &line)
        return line + [UInt8(ascii: "\n")]
    }
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}

/// CPU time of the calling thread, in seconds.
func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

func socketAddress(_ port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}

func send(_ socket: Int32, _ bytes: [UInt8], to port: Int? = nil) {
    bytes.withUnsafeBytes { buffer in
        if let port {
            var address = socketAddress(port)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(socket, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        } else {
            var offset = 0
            while offset < buffer.count {
                let sent = Glibc.send(socket, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                guard sent > 0 else { return }
                offset += sent
            }
        }
    }
}

/// Playback's side of a stream's ring: a thread that reads every stored frame, looking every
/// `interval` microseconds, so the ring never fills (frames arrive in order here, so stored frames
/// are contiguous).
final class Drain: @unchecked Sendable {
    private let ring: FrameRing
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)

    /// Waits for the session's stream to exist, then starts draining it.
    static func start(_ server: IngestServer, session: String, interval: UInt32 = 50) async throws -> Drain {
        while true {
            let ring = try await server.withTable { table in table.activeSessions.first { $0.sessionID == session }?.streams["main"]?.ring }
            if let ring { return Drain(ring, interval: interval) }
            try await Task.sleep(nanoseconds: 100_000)
        }
    }

    private init(_ ring: FrameRing, interval: UInt32) {
        self.ring = ring
        Thread { [self] in
            let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: framesPerLine * channels)
            var position: Int64 = 0
            while running.load(ordering: .relaxed) {
                if position + Int64(framesPerLine) <= Int64(ring.stored * framesPerLine) {
                    ring.read(from: position, frameCount: framesPerLine, into: output)
                    position += Int64(framesPerLine)
                } else {
                    usleep(interval)
                }
            }
            output.deallocate()
            finished.signal()
        }.start()
    }

    var stored: Int { ring.stored }

    func stop() {
        running.store(false, ordering: .relaxed)
        finished.wait()
    }
}

/// A socket to `port` on loopback: connected for TCP, unconnected for UDP.
func senderSocket(tcp: Bool, port: Int) -> Int32 {
    let socket = Glibc.socket(AF_INET, Int32(tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
    if tcp {
        var address = socketAddress(port)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }
    return socket
}

func measureTransport(_ server: IngestServer, tcp: Bool, port: Int) async throws -> (seconds: Double, bytes: Int, delivered: Int) {
    let session = tcp ? "tcp-bench" : "udp-bench"
    let data = lines(session: session)
    let socket = senderSocket(tcp: tcp, port: port)
    defer { close(socket) }
    // The first line creates the stream; timing starts with the second.
    send(socket, data[0], to: tcp ? nil : port)
    let drain = try await Drain.start(server, session: session)
    defer { drain.stop() }
    let start = ContinuousClock.now
    var sent = 1, lost = 0
    for line in data.dropFirst() {
        send(socket, line, to: tcp ? nil : port)
        sent += 1
        // Frames in flight: over UDP few, as it has no flow control and the socket buffer would
        // overflow (after 100 ms without progress one was lost, and no longer counts as in
        // flight); over TCP up to half of what the ring holds, so no frame is refused.
        let waitStart = ContinuousClock.now
        while sent - lost - drain.stored > (tcp ? 500 : 8) {
            if seconds(since: waitStart) > 0.1 { lost += 1; break }
            usleep(20)
        }
    }
    // Until everything arrived, or nothing more has for 200 ms.
    var last = -1, lastChange = ContinuousClock.now, end = ContinuousClock.now
    while true {
        let stored = drain.stored
        if stored != last { last = stored; lastChange = .now; end = .now }
        if stored >= lineCount || seconds(since: lastChange) > 0.2 { break }
        try await Task.sleep(nanoseconds: 100_000)
    }
    let elapsed = end - start
    // Timed from the second line: count what arrived after the first.
    return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18, data.reduce(0) { $0 + $1.count } * (last - 1) / lineCount, last - 1)
}

/// What receiving one real-time stream cost a receiver: its thread's CPU as a percentage of a core,
/// and the lines it took (the priming line included).
struct RealTimeFigure {
    var cpu: Double
    var lines: Int
}

/// Frames sent at real time after the priming line (`data[0]`), 100 a second.
let realTimeFrames = 1_000

/// CPU seconds spent over the real-time frames as a percentage of one core.
func percentOfCore(_ cpuSeconds: Double) -> Double { cpuSeconds / (Double(realTimeFrames) / 100) * 100 }

/// Sends `data[1...realTimeFrames]` at real time through `send`.
func sendAtRealTime(_ data: [[UInt8]], _ send: ([UInt8]) -> Void) async throws {
    let start = ContinuousClock.now
    for number in 1...realTimeFrames {
        send(data[number])
        let wait = Double(number) / 100 - seconds(since: start)
        if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
    }
}

/// The product's ingest: the ingest thread's CPU while one stream goes into its ring.
func measureIngest(_ server: IngestServer, tcp: Bool, port: Int, round: Int) async throws -> RealTimeFigure {
    let session = "realtime-\(tcp ? "tcp" : "udp")-\(round)"
    let data = lines(session: session)
    let socket = senderSocket(tcp: tcp, port: port)
    defer { close(socket) }
    send(socket, data[0], to: tcp ? nil : port)
    // Read as the playback thread does, once a period (256 frames at 48 kHz), not polled hard.
    let drain = try await Drain.start(server, session: session, interval: 5_333)
    defer { drain.stop() }
    let cpuBefore = try await server.withTable { _ in threadCPUSeconds() }
    try await sendAtRealTime(data) { send(socket, $0, to: tcp ? nil : port) }
    let cpuAfter = try await server.withTable { _ in threadCPUSeconds() }
    return RealTimeFigure(cpu: percentOfCore(cpuAfter - cpuBefore), lines: drain.stored)
}

/// Counts the lines in a buffer (so that each baseline at least looks at every byte, as framing does).
func countLines(_ bytes: UnsafeRawBufferPointer) -> Int {
    guard var cursor = bytes.baseAddress else { return 0 }
    let end = cursor + bytes.count
    var count = 0
    while cursor < end, let newline = memchr(cursor, Int32(UInt8(ascii: "\n")), end - cursor) {
        count += 1
        cursor = UnsafeRawPointer(newline) + 1
    }
    return count
}

/// Lines a baseline receiver has taken, read by the sending side.
final class LineCounter: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .relaxed) }
    func add(_ lines: Int) { count.add(lines, ordering: .relaxed) }
}

/// Counts the lines of whatever it reads and drops it.
final class DroppingHandler<Message>: ChannelInboundHandler {
    typealias InboundIn = Message
    private let received: LineCounter
    private let bytes: (Message) -> ByteBuffer

    init(received: LineCounter, bytes: @escaping (Message) -> ByteBuffer) {
        self.received = received
        self.bytes = bytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received.add(bytes(unwrapInboundIn(data)).withUnsafeReadableBytes(countLines))
    }
}

/// Baseline: SwiftNIO reading the stream on its own event loop, set up as the product's, and
/// dropping each read after counting its lines — what the event loop costs before any decoding.
func measureNIOFloor(tcp: Bool) async throws -> RealTimeFigure {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let loop = group.next()
    let received = LineCounter()
    let channel: any Channel
    if tcp {
        channel = try await ServerBootstrap(group: group)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture { try child.pipeline.syncOperations.addHandler(DroppingHandler<ByteBuffer>(received: received) { $0 }) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    } else {
        channel = try await DatagramBootstrap(group: group)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelInitializer { datagrams in
                datagrams.eventLoop.makeCompletedFuture {
                    try datagrams.pipeline.syncOperations.addHandler(DroppingHandler<AddressedEnvelope<ByteBuffer>>(received: received) { $0.data })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }
    let port = channel.localAddress!.port!
    let data = lines(session: "nio-floor")
    let socket = senderSocket(tcp: tcp, port: port)
    defer { close(socket) }
    send(socket, data[0], to: tcp ? nil : port)
    while received.value == 0 { try await Task.sleep(nanoseconds: 100_000) }
    let cpuBefore = try await loop.submit { threadCPUSeconds() }.get()
    try await sendAtRealTime(data) { send(socket, $0, to: tcp ? nil : port) }
    let cpuAfter = try await loop.submit { threadCPUSeconds() }.get()
    try await channel.close()
    try await group.shutdownGracefully()
    return RealTimeFigure(cpu: percentOfCore(cpuAfter - cpuBefore), lines: received.value)
}

/// Baseline: the least a receiver does — a plain thread that waits in `poll`, `read`s and counts
/// lines (no event-loop library, no decoding). Its CPU time from the priming line to its last read.
func measureSyscallFloor(tcp: Bool) async throws -> RealTimeFigure {
    let listener = Glibc.socket(AF_INET, Int32(tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
    defer { close(listener) }
    var address = socketAddress(0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 }
    }
    let port = Int(UInt16(bigEndian: address.sin_port))
    if tcp { listen(listener, 1) }
    let running = Atomic<Bool>(true)
    let received = LineCounter()
    let cpu = Mutex<Double>(0)
    let done = DispatchSemaphore(value: 0)
    Thread {
        let socket = tcp ? accept(listener, nil, nil) : listener
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
        var cpuAtFirstRead: Double?
        while running.load(ordering: .relaxed) {
            var ready = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 100) == 1 else { continue }
            let count = read(socket, buffer.baseAddress, buffer.count)
            guard count > 0 else { break }
            received.add(countLines(UnsafeRawBufferPointer(rebasing: buffer[..<count])))
            if cpuAtFirstRead == nil { cpuAtFirstRead = threadCPUSeconds() }
        }
        cpu.withLock { $0 = threadCPUSeconds() - (cpuAtFirstRead ?? threadCPUSeconds()) }
        buffer.deallocate()
        if tcp { close(socket) }
        done.signal()
    }.start()
    let data = lines(session: "syscall-floor")
    let socket = senderSocket(tcp: tcp, port: port)
    send(socket, data[0], to: tcp ? nil : port)
    while received.value == 0 { try await Task.sleep(nanoseconds: 100_000) }
    try await sendAtRealTime(data) { send(socket, $0, to: tcp ? nil : port) }
    running.store(false, ordering: .relaxed)
    close(socket)
    done.wait()
    return RealTimeFigure(cpu: percentOfCore(cpu.withLock { $0 }), lines: received.value)
}

func decodeOnly(_ data: [[UInt8]]) -> (seconds: Double, bytes: Int, delivered: Int) {
    var decoder = JamnetDecoder()
    var samples = [Float](repeating: 0, count: framesPerLine * channels)
    var best = Double.infinity
    for _ in 0..<5 {
        let start = ContinuousClock.now
        for line in data {
            _ = samples.withUnsafeMutableBufferPointer { buffer in line.withUnsafeBytes { decoder.decode(UnsafeRawBufferPointer(rebasing: $0.dropLast()), samples: buffer) } }
        }
        best = min(best, seconds(since: start))
    }
    return (best, data.reduce(0) { $0 + $1.count }, data.count)
}

// Rings of 10 s: the drain is a thread like the others on two cores, and a burst must not
// outrun it by more than its ring while it waits for a core (the product sizes rings by latency).
var configuration = IngestConfiguration()
configuration.ringDuration = .seconds(10)
let server = IngestServer(listen: ListenAddress(host: "127.0.0.1", port: 0), configuration: configuration)
let ports = try await server.start()
let decode = decodeOnly(lines(session: "decode"))
let tcp = try await measureTransport(server, tcp: true, port: ports.tcp!)
let udp = try await measureTransport(server, tcp: false, port: ports.udp!)
// Three rounds, the receivers in turn: wake-ups on this VM cost more at some times than at others.
let rounds = 3
var realTime: [(name: String, tcp: [RealTimeFigure], udp: [RealTimeFigure])] = [
    ("poll + read (floor)", [], []), ("SwiftNIO, reads dropped", [], []), ("jamplay ingest (into rings)", [], []),
]
for round in 0..<rounds {
    for tcp in [true, false] {
        let figures = [try await measureSyscallFloor(tcp: tcp), try await measureNIOFloor(tcp: tcp),
                       try await measureIngest(server, tcp: tcp, port: tcp ? ports.tcp! : ports.udp!, round: round)]
        for (row, figure) in figures.enumerated() {
            if tcp { realTime[row].tcp.append(figure) } else { realTime[row].udp.append(figure) }
        }
    }
}
// (The throughput figures include this process polling the ring from the benchmark's thread.)
try await server.stop()

print("ingest benchmark: \(lineCount) jdat lines of \(framesPerLine) frames × \(channels) channels (\(decode.bytes / lineCount) bytes each), loopback")
print("path                         MB/s    frames/s   CPU s per audio s   delivered")
let audioPerFrame = Double(framesPerLine) / 48_000
for (name, result) in [("decode only (baseline)", decode), ("TCP into the rings", tcp), ("UDP into the rings", udp)] {
    let framesPerSecond = Double(result.delivered) / result.seconds
    print(name.padding(toLength: 26, withPad: " ", startingAt: 0)
          + String(format: "%8.1f %11.0f %15.5f %11d/%d", Double(result.bytes) / result.seconds / 1e6, framesPerSecond,
                   1 / (framesPerSecond * audioPerFrame), result.delivered, result.delivered == lineCount ? lineCount : lineCount - 1))
}
print("")
print("one real-time stream (\(realTimeFrames) frames of 10 ms, 100 a second): the receiving thread's CPU, % of a core, \(rounds) rounds")
print("receiver                      TCP                   UDP")
func cells(_ figures: [RealTimeFigure]) -> String {
    let all = figures.allSatisfy { $0.lines == realTimeFrames + 1 }
    return figures.map { String(format: "%.2f", $0.cpu) }.joined(separator: " / ")
        + (all ? "" : " (lines: " + figures.map { "\($0.lines)" }.joined(separator: ", ") + " of \(realTimeFrames + 1))")
}
for row in realTime {
    print(row.name.padding(toLength: 30, withPad: " ", startingAt: 0) + cells(row.tcp).padding(toLength: 22, withPad: " ", startingAt: 0) + cells(row.udp))
}
