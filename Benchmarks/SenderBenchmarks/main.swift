import Core
import Foundation
import Sender
import Wire
#if canImport(Glibc)
import Glibc
#endif

// `make bench`: jamsend's rendering and encoding rate (Vulkan compute shader beside its CPU
// reference, encode alone beside both), its send-time error when paced (beside the machine's floor,
// an absolute sleep with no work, and a naive relative sleep), and the max_deviation of its
// calibration pairs (VK_EXT_calibrated_timestamps beside a submit bracketed by CPU reads).

let clock = SystemMonotonicClock()
let frames = 480
let channels = 2

func quantiles(_ values: [Double]) -> String {
    let sorted = values.sorted()
    func at(_ fraction: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction + 0.5))] }
    return String(format: "p50 %8.1f   p99 %8.1f   max %8.1f", at(0.5), at(0.99), sorted.last!)
}

let anyClock = StreamClock(
    model: SenderClockModel(knobs: GPUClockKnobs(), firstReading: CalibrationReading(gpu: 0, cpu: .zero, maxDeviation: 0, origin: .sender)),
    samples: SampleClock(start: 0, rate: .standard))

/// Frames per second rendering (and encoding, if asked) `count` frames of `signal`.
func framesPerSecond(_ signal: Signal, renderer: inout some SignalRenderer, encode: Bool, count: Int = 2_000) throws -> Double {
    let planner = try SignalPlanner(signal: signal, rate: .standard, channels: ChannelCount(channels), framesPerMessage: frames, seed: 1)
    var samples = [Float](repeating: 0, count: frames * channels)
    var line: [UInt8] = []
    line.reserveCapacity(1 << 16)
    let start = clock.now()
    for index in 0..<count {
        let parameters = planner.parameters(first: Int64(index * frames), count: frames, clock: anyClock)
        _ = try samples.withUnsafeMutableBufferPointer { try renderer.render(parameters, into: $0) }
        if encode {
            line.removeAll(keepingCapacity: true)
            let header = AudioFrameHeader(timestamp: .gpu(Int64(index) * 10_000_000), sessionID: "bench", streamID: "main",
                                          sequence: UInt64(index), channelCount: ChannelCount(channels))
            try JamnetEncoder().encode(header, samples: samples, into: &line)
        }
    }
    return Double(count) / (clock.now() - start).seconds
}

/// Frames per second encoding alone (samples rendered once, beforehand).
func encodeOnlyFramesPerSecond(_ signal: Signal, count: Int = 2_000) throws -> Double {
    let planner = try SignalPlanner(signal: signal, rate: .standard, channels: ChannelCount(channels), framesPerMessage: frames, seed: 1)
    var samples = [Float](repeating: 0, count: frames * channels)
    samples.withUnsafeMutableBufferPointer { CPUSignalRenderer.render(planner.parameters(first: 0, count: frames, clock: anyClock), fileSamples: [], into: $0) }
    var line: [UInt8] = []
    line.reserveCapacity(1 << 16)
    let start = clock.now()
    for index in 0..<count {
        line.removeAll(keepingCapacity: true)
        let header = AudioFrameHeader(timestamp: .gpu(Int64(index) * 10_000_000), sessionID: "bench", streamID: "main",
                                      sequence: UInt64(index), channelCount: ChannelCount(channels))
        try JamnetEncoder().encode(header, samples: samples, into: &line)
    }
    return Double(count) / (clock.now() - start).seconds
}

let gpu: VulkanDevice?
do {
    gpu = try VulkanDevice()
} catch {
    print("Vulkan: \(error) — GPU rows left out")
    gpu = nil
}

print("jamsend render + encode, 480-sample stereo frames (frames/s; real time needs 100)")
print("signal      GPU render   GPU+encode   CPU render   CPU+encode   encode only")
for signal in [Signal.sine(frequency: 1000, amplitude: 0.5), .noise(amplitude: 0.5)] {
    var cpuRenderer = CPUSignalRenderer()
    var gpuColumns = "         —            —"
    if let gpu {
        var renderer = try VulkanSignalRenderer(device: gpu, maximumFrames: frames, channels: channels)
        _ = try framesPerSecond(signal, renderer: &renderer, encode: false, count: 100)  // warm-up
        gpuColumns = String(format: "%12.0f %12.0f", try framesPerSecond(signal, renderer: &renderer, encode: false),
                            try framesPerSecond(signal, renderer: &renderer, encode: true))
    }
    let name = signal.description.split(separator: ":").first!
    print(name.padding(toLength: 8, withPad: " ", startingAt: 0) + gpuColumns + String(format: " %12.0f %12.0f %13.0f",
          try framesPerSecond(signal, renderer: &cpuRenderer, encode: false),
          try framesPerSecond(signal, renderer: &cpuRenderer, encode: true), try encodeOnlyFramesPerSecond(signal)))
}

// Send-time error: the paced sender for 10 s against two pacers that do no work.
let pacedSeconds = 10.0
print("\nsend-time error, actual − intended send time, µs (\(Int(pacedSeconds)) s of 10 ms frames each)")
func runSender(gpu: VulkanDevice?) throws -> SenderStatistics {
    var settings = SenderConfiguration()
    settings.duration = Nanoseconds(Int64(pacedSeconds * 1e9))
    let path = NSTemporaryDirectory() + "jamsend-bench-\(getpid()).jsonl"
    defer { unlink(path) }
    settings.output = .file(path: path)
    let sender: JamSender
    if let gpu {
        sender = try JamSender(configuration: settings, source: gpu, renderer: try VulkanSignalRenderer(device: gpu, maximumFrames: frames, channels: channels), log: { print($0) })
    } else {
        sender = try JamSender(configuration: settings, source: MonotonicTimestampSource(), renderer: CPUSignalRenderer(), log: { print($0) })
    }
    try sender.run(shouldStop: { false })
    return sender.statistics
}
func sleepUntil(_ deadline: Nanoseconds) {
    var time = timespec(tv_sec: Int(deadline.rawValue / 1_000_000_000), tv_nsec: Int(deadline.rawValue % 1_000_000_000))
    _ = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &time, nil)
}
func floorErrors(relative: Bool) -> [Double] {
    var errors: [Double] = []
    let start = clock.now() + .milliseconds(10)
    var previous = start
    for index in 1...Int(pacedSeconds * 100) {
        let intended = start + Nanoseconds(Int64(index) * 10_000_000)
        if relative {
            // The naive pacer: sleep one frame's duration after the last send.
            var time = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            nanosleep(&time, nil)
        } else {
            sleepUntil(intended)
        }
        let now = clock.now()
        errors.append(Double((now - intended).rawValue) / 1000)
        previous = now
    }
    _ = previous
    return errors
}
let statistics = try runSender(gpu: gpu)
print("jamsend (\(gpu == nil ? "CPU" : "Vulkan") render, absolute sleep)  " + quantiles(statistics.sendErrors.map { Double($0.rawValue) / 1000 }))
print("floor: absolute sleep, no work          " + quantiles(floorErrors(relative: false)))
print("naive: relative 10 ms sleep, no work    " + quantiles(floorErrors(relative: true)))

print("\nmax_deviation of calibration pairs, ns (1000 readings each)")
for method in [VulkanDevice.CalibrationMethod.calibrated, .submit] {
    guard let device = try? VulkanDevice(calibration: method) else { print("\(method.rawValue): not available here"); continue }
    let deviations = try (0..<1_000).map { _ in try device.readCalibration().maxDeviation }
    print(method.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0) + quantiles(deviations))
}
