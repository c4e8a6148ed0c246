import Core
import Foundation
import TestSupport
import Testing
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// When `jamsend` sends each frame, measured where it arrives: over loopback UDP, on this host's
/// `CLOCK_MONOTONIC`, against the frame's first sample's time.
@Suite(.serialized) struct SendTimingTests {
    /// How long after its first sample's time each frame arrived, and how long the frame is, ns,
    /// for a sender run with `timing`.
    static func arrivalsAfterStamp(_ timing: [String], frame: Int) throws -> [(arrival: Int64, length: Int64)] {
        let socket = LoopbackSockets.udpSocket()
        defer { close(socket) }
        var address = LoopbackSockets.address(port: 0)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let (sender, _) = try JamsendProcess.start(timing + ["--clock", "cpu", "--udp", "--frame", "\(frame)", "--signal", "sine",
                                                            "--duration", "1s", "--to", "127.0.0.1:\(UInt16(bigEndian: address.sin_port))"])
        defer { if sender.isRunning { sender.terminate() } }
        var decoder = JamnetDecoder()
        var samples = [Float](repeating: 0, count: 65_536)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var cpuMinusGPU: Int64?
        var result: [(arrival: Int64, length: Int64)] = []
        let clock = SystemMonotonicClock()
        while true {
            let received = recv(socket, &buffer, buffer.count, 0)
            guard received > 0 else { break }
            let arrival = clock.now().rawValue
            let line = Array(buffer[0..<received]).split(separator: UInt8(ascii: "\n"))
            for bytes in line {
                switch decoder.decode(Array(bytes), samples: &samples) {
                case .syncCalibration(let block): cpuMinusGPU = block.timestampCPU - block.timestampGPU
                case .audioFrame(let header, let count, _):
                    let length = Int64(count / header.channelCount.rawValue) * 1_000_000_000 / Int64(header.sampleRate.hertz)
                    if case .gpu(let stamp) = header.timestamp, let offset = cpuMinusGPU { result.append((arrival - (stamp + offset), length)) }
                default: break
                }
            }
            if !sender.isRunning && result.count >= 40 { break }
        }
        return result
    }

    @Test func aCapturingSenderSendsEachFrameOnceItsLastSampleHasPassed() throws {
        let frames = try Self.arrivalsAfterStamp(["--capture"], frame: 256)
        #expect(frames.count >= 150)
        // Never before the frame's last sample has passed (the last frame is shorter); and soon
        // after it (the median).
        let afterLastSample = frames.map { $0.arrival - $0.length }
        #expect(afterLastSample.allSatisfy { $0 >= 0 }, "a frame arrived \(-(afterLastSample.min() ?? 0)) ns before its last sample passed")
        let median = afterLastSample.sorted()[frames.count / 2]
        // (Within a JACK period: a busy machine wakes the sender late by milliseconds.)
        #expect(median < 5_333_333, "median \(median) ns after the last sample")
    }

    @Test func aNegativeLeadSendsEachFrameThatLongAfterItsFirstSample() throws {
        let arrivals = try Self.arrivalsAfterStamp(["--lead=-3ms"], frame: 480).map(\.arrival)
        #expect(arrivals.count >= 80)
        #expect(arrivals.allSatisfy { $0 >= 3_000_000 }, "earliest \(arrivals.min() ?? 0) ns after the first sample")
        let median = arrivals.sorted()[arrivals.count / 2]
        #expect(median < 3_000_000 + 5_333_333, "median \(median) ns after the first sample")
    }

    @Test func captureAndLeadExcludeEachOther() throws {
        let outcome = try JamsendProcess.run(["--capture", "--lead", "5ms", "--clock", "cpu", "--out", "/dev/null"])
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains("--capture and --lead exclude each other"), "\(outcome.standardError)")
    }
}
