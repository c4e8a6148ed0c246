import Core
import Sender
import Testing

@Suite(.serialized, .enabled(if: VulkanDevice.unavailableReason == nil, "\(VulkanDevice.unavailableReason ?? "")"))
struct VulkanDeviceTests {
    /// Raw GPU time → CPU time through one reading (lavapipe: same clock, so no drift to model).
    static func cpu(ofGPU gpu: Int64, _ reading: CalibrationReading) -> Int64 { gpu - (reading.gpu - reading.cpu.rawValue) }

    @Test(arguments: [VulkanDevice.CalibrationMethod.auto, .submit])
    func dispatchTimestampsIncreaseAndFallInsideTheCPUBracketOfTheirSubmit(method: VulkanDevice.CalibrationMethod) throws {
        let gpu = try VulkanDevice(calibration: method)
        let renderer = try VulkanSignalRenderer(device: gpu, maximumFrames: 480, channels: 2)
        var parameters = SignalFrameParameters()
        parameters.kind = .sine
        parameters.frameCount = 480
        parameters.channels = 2
        parameters.amplitude = 0.5
        parameters.phaseStep = 1 << 26
        var samples = [Float](repeating: 0, count: 960)
        var previous = Int64.min
        let clock = SystemMonotonicClock()
        for _ in 0..<50 {
            let reading = try gpu.readCalibration()
            let before = clock.now().rawValue
            let times = try samples.withUnsafeMutableBufferPointer { try renderer.render(parameters, into: $0) }!
            let after = clock.now().rawValue
            #expect(times.started > previous)
            #expect(times.finished >= times.started)
            previous = times.finished
            let slack = Int64(reading.maxDeviation.rounded(.up)) + 1_000  // the reading's own bound + 1 µs
            #expect(Self.cpu(ofGPU: times.started, reading) >= before - slack, "\(method): dispatch began before its submit")
            #expect(Self.cpu(ofGPU: times.finished, reading) <= after + slack, "\(method): dispatch ended after its wait returned")
        }
    }

    @Test(arguments: [VulkanDevice.CalibrationMethod.auto, .submit])
    func calibrationReadingsAgreeWithinTheirMaximumDeviation(method: VulkanDevice.CalibrationMethod) throws {
        let gpu = try VulkanDevice(calibration: method)
        let readings = try (0..<40).map { _ in try gpu.readCalibration() }
        #expect(readings.allSatisfy { $0.maxDeviation >= 0 && $0.origin == (gpu.calibrationMethod == .calibrated ? .sender : .midpoint) })
        for (first, second) in zip(readings, readings.dropFirst()) {
            let offsets = (first.gpu - first.cpu.rawValue, second.gpu - second.cpu.rawValue)
            // Two true offsets of one clock pair differ by drift only (none on lavapipe; 100 ppm allowed).
            let drift = Double((second.cpu - first.cpu).rawValue) * 100e-6
            #expect(Double(abs(offsets.0 - offsets.1)) <= first.maxDeviation + second.maxDeviation + drift + 2)
        }
    }

    @Test func lavapipeOffersCalibratedTimestampsAgainstCLOCK_MONOTONIC() throws {
        let gpu = try VulkanDevice()
        // DESIGN §5: Mesa's lavapipe supports VK_EXT_calibrated_timestamps; a real GPU may not.
        if gpu.name.contains("llvmpipe") { #expect(gpu.calibrationMethod == .calibrated) }
        #expect(gpu.timestampPeriod > 0)
        #expect(gpu.timestampValidBits > 0)
    }
}
