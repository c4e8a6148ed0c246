import Core
import Foundation
import Ingest
import Sender
import TestSupport
import Testing
import Wire

/// `jamsend` streaming to jamplay's ingest over real loopback sockets.
@Suite(.serialized) struct JamsendIngestTests {
    static func startServer(sameHost: Bool = true, _ configure: (inout IngestConfiguration) -> Void = { _ in }) async throws -> (IngestServer, tcp: Int, udp: Int) {
        var configuration = IngestConfiguration()
        // The session must outlive the sender until the test has read it, however slow the machine.
        configuration.sessionTimeout = .seconds(600)
        // Nothing reads the rings here: they hold all of a test's few seconds.
        configuration.ringDuration = .seconds(4)
        configure(&configuration)
        let remote: @Sendable (SourceKey) -> Bool = { _ in false }
        let server = IngestServer(listen: ListenAddress(host: "127.0.0.1", port: 0), configuration: configuration, isSameHost: sameHost ? nil : remote)
        let ports = try await server.start()
        return (server, ports.tcp!, ports.udp!)
    }

    /// The first `frames` sample frames of the session's stream "main", read from its ring.
    static func played(_ server: IngestServer, frames: Int, channels: Int) async throws -> [Float]? {
        try await server.withTable { table -> [Float]? in
            guard let ring = table.activeSessions.first(where: { $0.sessionID == "jamsend" })?.streams["main"]?.ring else { return nil }
            var output = [Float](repeating: .nan, count: frames * channels)
            _ = output.withUnsafeMutableBufferPointer { ring.read(from: 0, frameCount: frames, into: $0) }
            return output
        }
    }

    static var clockArguments: [String] { VulkanDevice.unavailableReason == nil ? [] : ["--clock", "cpu"] }

    @Test(arguments: ["--tcp", "--udp"])
    func aStreamArrivesCalibratedAndEverySampleIsWhatTheShaderRendered(transport: String) async throws {
        if VulkanDevice.unavailableReason != nil { print("JamsendIngestTests: \(VulkanDevice.unavailableReason!); rendering on the CPU instead") }
        let (server, tcp, udp) = try await Self.startServer()
        let port = transport == "--tcp" ? tcp : udp
        let outcome = try JamsendProcess.run(Self.clockArguments + [
            "--to", "127.0.0.1:\(port)", transport, "--signal", "sine:997:0.8", "--duration", "1s", "--gpu-offset", "5s", "--gpu-skew-ppm", "200",
        ])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(try await eventually { try await server.withTable { $0.activeSessions.first?.streams["main"]?.ring.stored ?? 0 } == 100 })
        let counters = server.counters
        #expect(counters.uncalibrated.value == 0)
        #expect(counters.late.value == 0)
        #expect(LineClass.allCases.filter { $0 != .ok }.allSatisfy { counters.rejected($0).value == 0 })
        let status = try #require(try await server.withTable { $0.activeSessions.first?.calibration.status })
        #expect(status.blocksUsed >= 1)
        // GPU offset 5 s as the sender reported it, to within the calibration's deviation.
        #expect(abs(status.offset.rawValue - 5_000_000_000) < 1_000_000)

        let samples = try #require(try await Self.played(server, frames: 48_000, channels: 2))
        let planner = try SignalPlanner(signal: .sine(frequency: 997, amplitude: 0.8), rate: .standard, channels: ChannelCount(2), framesPerMessage: 48_000, seed: 1)
        var expected = [Float](repeating: 0, count: 96_000)
        let anyClock = StreamClock(model: SenderClockModel(knobs: GPUClockKnobs(), firstReading: CalibrationReading(gpu: 0, cpu: .zero, maxDeviation: 0, origin: .sender)),
                                   samples: SampleClock(start: 0, rate: .standard))
        expected.withUnsafeMutableBufferPointer { CPUSignalRenderer.render(planner.parameters(first: 0, count: 48_000, clock: anyClock), fileSamples: [], into: $0) }
        #expect(zip(samples, expected).filter { !(abs($0 - $1) <= 1e-6) }.isEmpty)
        try await server.stop()
    }

    @Test func udpImpairmentsAreUndoneByTheJitterBuffer() async throws {
        let (server, _, udp) = try await Self.startServer()
        let outcome = try JamsendProcess.run(Self.clockArguments + [
            "--to", "127.0.0.1:\(udp)", "--udp", "--signal", "noise", "--duration", "2s", "--lead", "30ms",
            "--loss", "0.05", "--reorder", "0.1", "--duplicate", "0.05", "--jitter", "3ms", "--seed", "5",
        ])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        try await Task.sleep(nanoseconds: 200_000_000)
        let (stored, duplicates, reordered) = try await server.withTable { table -> (Int, Int, Int) in
            let ring = table.activeSessions.first?.streams["main"]?.ring
            return (ring?.stored ?? 0, ring?.duplicates ?? 0, ring?.reordered ?? 0)
        }
        #expect((170...195).contains(stored), "stored \(stored) of 200 frames with 5 % loss")
        #expect(duplicates > 0)
        #expect(reordered > 0)
        #expect(server.counters.late.value == 0)
        try await server.stop()
    }

    @Test func aRemoteReceiversClockProbesAreAnswered() async throws {
        let (server, tcp, _) = try await Self.startServer(sameHost: false) { $0.probeInterval = .milliseconds(50) }
        let outcome = try JamsendProcess.run(Self.clockArguments + ["--to", "127.0.0.1:\(tcp)", "--signal", "silence", "--duration", "1s"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let status = try await server.withTable { $0.activeSessions.first?.host.status }
        let host = try #require(status)
        #expect(host.mode == .twoWay)
        #expect(host.exchangesTaken >= 5)
        // Same machine, so the measured offset is zero to within a loopback round trip.
        #expect(abs(host.offset.rawValue) < 1_000_000)
        try await server.stop()
    }

    @Test func theSenderReconnectsWhenTheReceiverComesBack() async throws {
        // Reserve a port, start the sender against it with nobody listening, then listen there.
        let (probe, tcp, _) = try await Self.startServer()
        try await probe.stop()
        let (process, errorPipe) = try JamsendProcess.start(Self.clockArguments + ["--to", "127.0.0.1:\(tcp)", "--signal", "silence", "--duration", "3s"])
        try await Task.sleep(nanoseconds: 700_000_000)
        var configuration = IngestConfiguration()
        configuration.probeInterval = .seconds(10)
        configuration.ringDuration = .seconds(4)
        let server = IngestServer(listen: ListenAddress(host: "127.0.0.1", port: tcp), configuration: configuration)
        _ = try await server.start()
        let outcome = JamsendProcess.finish(process, errorPipe)
        #expect(outcome.status == 0)
        #expect(outcome.standardError.contains("cannot connect"))
        #expect(outcome.standardError.contains("connected to"))
        let stored = try await server.withTable { $0.activeSessions.first?.streams["main"]?.ring.stored ?? 0 }
        #expect(stored >= 150, "frames after the receiver appeared: \(stored)")
        #expect(server.counters.uncalibrated.value == 0)
        try await server.stop()
    }

    @Test func sigintStopsTheSenderCleanlyWithItsSummary() async throws {
        let path = JamsendProcess.temporaryPath(".jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (process, errorPipe) = try JamsendProcess.start(["--clock", "cpu", "--signal", "sine", "--out", path])
        try await Task.sleep(nanoseconds: 600_000_000)
        process.interrupt()
        let outcome = JamsendProcess.finish(process, errorPipe)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let lines = try JamsendProcess.decode(file: path)
        #expect(lines.count > 20)
        #expect(lines.allSatisfy { $0.0.lineClass == .ok })
    }
}
