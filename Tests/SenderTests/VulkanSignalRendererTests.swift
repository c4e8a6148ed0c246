import Core
import Sender
import Testing

@Suite(.serialized, .enabled(if: VulkanDevice.unavailableReason == nil, "\(VulkanDevice.unavailableReason ?? "")"))
struct VulkanSignalRendererTests {
    let gpu = try! VulkanDevice()

    @Test func shaderSamplesMatchTheCPUReference() throws {
        let renderer = try VulkanSignalRenderer(device: gpu, maximumFrames: 4096, channels: 2, fileSamples: (0..<200).map { Float($0) / 256 })
        let clock = StreamClock(
            model: SenderClockModel(knobs: GPUClockKnobs(), firstReading: CalibrationReading(gpu: 0, cpu: .zero, maxDeviation: 0, origin: .sender)),
            samples: SampleClock(start: 0, rate: .standard))
        let signals: [Signal] = [.sine(frequency: 997, amplitude: 0.8), .chirp(start: 20, end: 20_000, duration: .seconds(1), amplitude: 0.5),
                                 .noise(amplitude: 0.7), .impulse(period: .milliseconds(10)), .silence, .file(path: "x.wav")]
        for signal in signals {
            let planner = try SignalPlanner(signal: signal, rate: .standard, channels: ChannelCount(2), framesPerMessage: 4096, seed: 7, fileFrames: 100)
            for first in [0, 4096, 47_999 * 4096, 1 << 33] as [Int64] {
                let parameters = planner.parameters(first: first, count: 4096, clock: clock)
                var gpuSamples = [Float](repeating: .nan, count: 8192)
                var cpuSamples = [Float](repeating: .nan, count: 8192)
                _ = try gpuSamples.withUnsafeMutableBufferPointer { try renderer.render(parameters, into: $0) }
                cpuSamples.withUnsafeMutableBufferPointer {
                    CPUSignalRenderer.render(parameters, fileSamples: (0..<200).map { Float($0) / 256 }, into: $0)
                }
                // NaN (a sample the shader did not write) fails the comparison too.
                let mismatches = zip(gpuSamples, cpuSamples).filter { !(abs($0 - $1) <= 1e-6) }
                #expect(mismatches.isEmpty, "\(signal) at sample \(first): \(mismatches.count) samples differ, first \(mismatches.first.map { "\($0)" } ?? "")")
                if case .silence = signal {} else { #expect(gpuSamples.contains { $0 != 0 }, "\(signal) rendered only zeros") }
            }
        }
    }
}
