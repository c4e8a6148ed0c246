import Core
import Foundation
import Sender
import Testing
import Wire

/// `jamsend` writing files: what its knobs promise, checked on what it wrote.
@Suite struct JamsendCommandTests {
    struct Capture {
        var blocks: [SyncCalibrationBlock] = []
        var frames: [(header: AudioFrameHeader, samples: [Float])] = []

        /// Each frame's `timestamp_gpu`.
        var stamps: [Int64] {
            frames.map { frame -> Int64 in
                guard case .gpu(let stamp) = frame.header.timestamp else { return .min }
                return stamp
            }
        }

        /// How far each stamp is from the first stamp + n × `spacing` nanoseconds.
        func deviationsFromGrid(spacing: Int64) -> [Int64] {
            let stamps = self.stamps
            return stamps.indices.map { index -> Int64 in stamps[index] - (stamps[0] + Int64(index) * spacing) }
        }
    }

    static func capture(_ arguments: [String]) throws -> (Capture, JamsendProcess.Outcome) {
        let path = JamsendProcess.temporaryPath(".jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let outcome = try JamsendProcess.run(arguments + ["--out", path])
        var capture = Capture()
        guard outcome.status == 0 else { return (capture, outcome) }
        var linter = CaptureLinter()
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        var findings: [CaptureLinter.Finding] = []
        bytes.withUnsafeBytes { linter.feed($0) { findings.append($0) } }
        linter.finish { findings.append($0) }
        #expect(findings.isEmpty, "jamplay lint rejects jamsend's output: \(findings.prefix(3))")
        for (line, samples) in try JamsendProcess.decode(file: path) {
            switch line {
            case .syncCalibration(let block): capture.blocks.append(block)
            case .audioFrame(let header, _, _): capture.frames.append((header, samples))
            default: Issue.record("unexpected line \(line)")
            }
        }
        return (capture, outcome)
    }

    @Test func theOutputFilePassesLintWithFramesInOrderAndABlockFirst() throws {
        let (capture, outcome) = try Self.capture(["--clock", "cpu", "--signal", "sine:440", "--duration", "1s", "--no-pace"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(capture.frames.count == 100)
        #expect(capture.frames.map { $0.header.sequence } == (0..<100).map { UInt64($0) })
        #expect(capture.frames.allSatisfy { $0.header.channelCount.rawValue == 2 && $0.samples.count == 960 })
        #expect(capture.blocks.first?.clockBase == "CLOCK_MONOTONIC")
        #expect(outcome.standardError.isEmpty, "not a terminal, so quiet: \(outcome.standardError)")
    }

    @Test func offsetSkewAndWrapKnobsProduceExactlyTheirRelationships() throws {
        let (capture, outcome) = try Self.capture([
            "--clock", "cpu", "--signal", "silence", "--duration", "2.5s", "--cal-every", "100ms", "--channels", "1",
            "--gpu-offset=-3s", "--gpu-skew-ppm", "400", "--gpu-bits", "32",
        ])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        try #require(capture.blocks.count >= 20)
        let modulus: Int64 = 1 << 32
        #expect(capture.blocks.allSatisfy { $0.timestampBits == 32 && (0..<modulus).contains($0.timestampGPU) })
        #expect(capture.stamps.allSatisfy { (0..<modulus).contains($0) })
        // Unwrap: a 32-bit counter at 1 GHz wraps every 4.29 s, so consecutive values never differ by more.
        func unwrap(_ values: [Int64]) -> [Int64] {
            var result = [values[0]]
            for value in values.dropFirst() { result.append(result.last! + ((value - result.last!) % modulus + modulus) % modulus) }
            return result
        }
        let first = capture.blocks[0]
        let gpu = unwrap(capture.blocks.map(\.timestampGPU))
        let base = gpu[0] - first.timestampGPU  // the unwrapped value of the first block keeps its low bits
        #expect(base == 0)
        // reported = cpu + offset + 400 ppm × elapsed: the −3 s offset is visible modulo 2^32.
        for (block, unwrapped) in zip(capture.blocks, gpu) {
            let elapsed = Double(block.timestampCPU - first.timestampCPU)
            let predicted = Double(first.timestampGPU) + elapsed * (1 + 400e-6)
            #expect(abs(Double(unwrapped) - predicted) <= 2, "block at +\(elapsed) ns")
        }
        // The −3 s offset is visible modulo 2^32, with the 400 ppm gained between the start (where
        // the skew pivots) and the first block, read as it is sent, under a second later.
        let gained = ((first.timestampGPU - first.timestampCPU + 3_000_000_000) % modulus + modulus) % modulus
        #expect(gained < 400_000, "\(gained) ns gained by the first block")
        // Frames are on the GPU sample clock: exactly 480 samples = 10 ms of reported GPU time apart.
        let stamps = unwrap(capture.stamps)
        #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $1 - $0 == 10_000_000 })
    }

    @Test func stampJitterMovesFramesWithinItsBoundAndDispatchStampsStayNearTheClock() throws {
        let (jittered, _) = try Self.capture(["--clock", "cpu", "--signal", "silence", "--duration", "1s", "--stamp-jitter", "1ms", "--no-pace"])
        let deviations = jittered.deviationsFromGrid(spacing: 10_000_000)
        #expect(deviations.allSatisfy { abs($0) <= 2_000_000 })
        #expect(Set(deviations).count > 50)

        let (dispatch, outcome) = try Self.capture(["--clock", "cpu", "--signal", "silence", "--duration", "1s", "--stamp", "dispatch"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let dispatchDeviations = dispatch.deviationsFromGrid(spacing: 10_000_000)
        // Real scheduling jitter: the time each render really ran, near its planned time (the
        // parallel test run shares two cores: a render may start up to 20 ms late).
        #expect(dispatchDeviations.allSatisfy { abs($0) <= 20_000_000 },
                "dispatch stamps up to \((dispatchDeviations.map { abs($0) }.max() ?? 0) / 1_000) µs off the sample clock")
    }

    @Test func impulsesSitOnTheGridOfTheSendersCPUClock() throws {
        let (capture, outcome) = try Self.capture([
            "--clock", "cpu", "--signal", "impulse:50ms", "--duration", "1s", "--channels", "1", "--gpu-offset", "7s", "--gpu-skew-ppm=-250",
        ])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        // CPU time of a GPU time, through the blocks: the line through the first and last block.
        let first = capture.blocks.first!, last = capture.blocks.last!
        let slope = Double(last.timestampCPU - first.timestampCPU) / Double(last.timestampGPU - first.timestampGPU)
        func cpu(ofGPU gpu: Double) -> Double { Double(first.timestampCPU) + (gpu - Double(first.timestampGPU)) * (capture.blocks.count > 1 ? slope : 1 / (1 - 250e-6)) }
        var impulses: [Double] = []
        for frame in capture.frames {
            guard case .gpu(let stamp) = frame.header.timestamp else { continue }
            for (index, sample) in frame.samples.enumerated() where sample != 0 {
                #expect(sample == 1)
                impulses.append(cpu(ofGPU: Double(stamp) + Double(index) * 1e9 / 48_000))
            }
        }
        #expect((19...21).contains(impulses.count))
        for time in impulses {
            let offGrid = time - (time / 50e6).rounded() * 50e6
            #expect(abs(offGrid) <= 1e9 / 48_000 / 2 + 50, "impulse \(offGrid) ns off the 50 ms grid")
        }
    }

    @Test func theFirstSampleIsStampedWhereItWasAskedFor() throws {
        let start = SystemMonotonicClock().now() + .milliseconds(300)
        let (capture, outcome) = try Self.capture(["--clock", "cpu", "--capture", "--duration", "100ms", "--first-sample-at", "\(start.rawValue)"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(capture.stamps.first == start.rawValue)
        #expect(capture.deviationsFromGrid(spacing: 10_000_000).allSatisfy { $0 == 0 })
        // Not now or before: a sender cannot send what was due before it started.
        let late = try JamsendProcess.run(["--clock", "cpu", "--out", "/dev/null", "--first-sample-at", "\(SystemMonotonicClock().now().rawValue)"])
        #expect(late.status != 0 && late.standardError.contains("--first-sample-at must be"), "\(late.standardError)")
    }

    @Test func aWAVFilePlaysAtItsOwnRateAndChannels() throws {
        let path = JamsendProcess.temporaryPath(".wav")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let samples = (0..<4_410 * 3).map { Float($0 % 100) / 200 }
        try Data(WAVFile.encode(samples: samples, rate: SampleRate(hertz: 44_100), channels: ChannelCount(3), bits: 24, float: false))
            .write(to: URL(fileURLWithPath: path))
        let (capture, outcome) = try Self.capture(["--clock", "cpu", "--signal", "file:\(path)", "--frame", "441", "--no-pace"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(capture.frames.count == 10)  // 0.1 s: the file once
        #expect(capture.frames.allSatisfy { $0.header.sampleRate.hertz == 44_100 && $0.header.channelCount.rawValue == 3 })
        let played = capture.frames.flatMap(\.samples)
        #expect(played.count == samples.count)
        #expect(zip(played, samples).allSatisfy { abs($0 - $1) <= 1.0 / 8_388_608 })
    }

    @Test func badOptionsAreRefusedWithAClearMessage() throws {
        for arguments in [["--signal", "square"], ["--to", "nowhere"], ["--gpu-bits", "65"], ["--loss", "0.1"], ["--duration", "soon"]] {
            let outcome = try JamsendProcess.run(arguments + ["--clock", "cpu"])
            #expect(outcome.status != 0, "\(arguments)")
            #expect(outcome.standardError.contains("Error"), "\(arguments): \(outcome.standardError)")
        }
    }

    @Test func withoutAVulkanDeviceTheErrorNamesWhatToInstall() throws {
        let outcome = try JamsendProcess.run(["--duration", "1s", "--out", "/dev/null"], environment: ["VK_ICD_FILENAMES": "/nonexistent.json"])
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains("mesa-vulkan-drivers"), "\(outcome.standardError)")
        #expect(outcome.standardError.contains("--clock cpu"))
    }
}

/// The same file checks through lavapipe: GPU-rendered, GPU-stamped.
@Suite(.enabled(if: VulkanDevice.unavailableReason == nil, "\(VulkanDevice.unavailableReason ?? "")"))
struct JamsendVulkanCommandTests {
    @Test(arguments: [("auto", "clock"), ("submit", "dispatch")])
    func aVulkanStreamPassesLintAndItsBlocksAgreeWithinTheirDeviation(calibration: String, stamp: String) throws {
        let (capture, outcome) = try JamsendCommandTests.capture([
            "--signal", "chirp", "--duration", "1.5s", "--cal-every", "100ms", "--calibration", calibration, "--stamp", stamp,
        ])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(capture.frames.count == 150)
        #expect(capture.blocks.count >= 10)
        #expect(capture.blocks.allSatisfy { $0.clockBase?.hasPrefix("vulkan:") == true })
        for (first, second) in zip(capture.blocks, capture.blocks.dropFirst()) {
            let drift = Double(second.timestampCPU - first.timestampCPU) * 100e-6
            #expect(Double(abs(first.offset - second.offset)) <= first.maxDeviation! + second.maxDeviation! + drift + 2)
        }
        // Dispatch stamps carry the GPU's real timing: near the sample clock, not on it (within
        // 20 ms: lavapipe shares two cores with the parallel test run, and a dispatch can start late).
        let deviations = capture.deviationsFromGrid(spacing: 10_000_000)
        #expect(deviations.allSatisfy { abs($0) <= 20_000_000 }, "dispatch stamps up to \((deviations.map { abs($0) }.max() ?? 0) / 1_000) µs off the sample clock")
        if stamp == "clock" { #expect(deviations.allSatisfy { $0 == 0 }) }
    }
}
