import Buffer
import Core
import Foundation
import Ingest
import Synchronization
import Wire
#if canImport(Glibc)
import Glibc
#endif

// `make bench`: ingest throughput into the rings over TCP and over UDP on loopback, and the ingest
// thread's CPU seconds per audio-second for one real-time 48 kHz stereo stream of 480-sample
// frames — beside decoding the same lines alone, so the cost of networking and buffering shows.

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

/// Playback's side of a stream's ring: a thread that reads every stored frame as soon as it is
/// stored, so the ring never fills (frames arrive in order here, so stored frames are contiguous).
final class Drain: @unchecked Sendable {
    private let ring: FrameRing
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)

    /// Waits for the session's stream to exist, then starts draining it.
    static func start(_ server: IngestServer, session: String) async throws -> Drain {
        while true {
            let ring = try await server.withTable { table in table.activeSessions.first { $0.sessionID == session }?.streams["main"]?.ring }
            if let ring { return Drain(ring) }
            try await Task.sleep(nanoseconds: 100_000)
        }
    }

    private init(_ ring: FrameRing) {
        self.ring = ring
        Thread { [self] in
            let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: framesPerLine * channels)
            var position: Int64 = 0
            while running.load(ordering: .relaxed) {
                if position + Int64(framesPerLine) <= Int64(ring.stored * framesPerLine) {
                    ring.read(from: position, frameCount: framesPerLine, into: output)
                    position += Int64(framesPerLine)
                } else {
                    usleep(50)
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

func measureTransport(_ server: IngestServer, tcp: Bool, port: Int) async throws -> (seconds: Double, bytes: Int, delivered: Int) {
    let session = tcp ? "tcp-bench" : "udp-bench"
    let data = lines(session: session)
    let socket = Glibc.socket(AF_INET, Int32(tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
    defer { close(socket) }
    if tcp {
        var address = socketAddress(port)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }
    // The first line creates the stream; timing starts with the second.
    send(socket, data[0], to: tcp ? nil : port)
    let drain = try await Drain.start(server, session: session)
    defer { drain.stop() }
    let start = ContinuousClock.now
    var sent = 1
    for line in data.dropFirst() {
        send(socket, line, to: tcp ? nil : port)
        sent += 1
        // UDP has no flow control: keep few frames in flight so the socket buffer does not overflow
        // (giving up on one after 100 ms: it was lost).
        let waitStart = ContinuousClock.now
        while !tcp, sent - drain.stored > 8, seconds(since: waitStart) < 0.1 { usleep(20) }
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

/// One stream at real time for `duration` seconds; the ingest thread's CPU seconds per audio second.
func measureRealTime(_ server: IngestServer, port: Int, duration: Double) async throws -> Double {
    let data = lines(session: "realtime")
    let socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(socket) }
    send(socket, data[0], to: port)
    let drain = try await Drain.start(server, session: "realtime")
    defer { drain.stop() }
    let frames = Int(duration * 100)
    let cpuBefore = try await server.withTable { _ in threadCPUSeconds() }
    let start = ContinuousClock.now
    for number in 0..<frames {
        send(socket, data[number % data.count], to: port)
        let due = Double(number + 1) / 100
        let wait = due - seconds(since: start)
        if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
    }
    let cpuAfter = try await server.withTable { _ in threadCPUSeconds() }
    return (cpuAfter - cpuBefore) / duration
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

let server = IngestServer(listen: ListenAddress(host: "127.0.0.1", port: 0))
let ports = try await server.start()
let decode = decodeOnly(lines(session: "decode"))
let tcp = try await measureTransport(server, tcp: true, port: ports.tcp!)
let udp = try await measureTransport(server, tcp: false, port: ports.udp!)
let realTime = try await measureRealTime(server, port: ports.udp!, duration: 5)
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
print("one real-time stream (UDP), ingest thread:         " + String(format: "%15.5f", realTime))
