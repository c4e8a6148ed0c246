import Clock
import Core
import Foundation

// `make bench`: the clock engine against synthetic sender clocks. For each scenario it reports the
// error of every frame's computed time against the truth — p50, p99, max — from 10 s on (after
// 10 blocks at 1 Hz), and the time to lock, beside the naive method in the same run: the latest
// block's offset alone, no drift, no smoothing, no unwrapping. A third row, the floor, is what
// the blocks allow at best: the true drift given, the offset the centre of what every block's
// bound allows. CLOCK_SEED picks the noise (default 7).

let second: Int64 = 1_000_000_000
let start: Int64 = 1_000_000_000_000
let duration: Int64 = 60 * second
let framePeriodSamples = 480
let sampleRate = 48_000.0
let lockThreshold: Int64 = 10_000
let jumpTime = start + 30 * second + second / 2

struct Scenario {
    var name: String
    var skewPPM = 0.0
    var calibrationJitter: Int64 = 0
    var stampJitter: Int64 = 0
    var counterBits = 64
    /// GPU offset jumps by this much at 30.5 s (a GPU reset, half-way between two blocks).
    var jump: Int64 = 0
    /// No calibration blocks from 30 s to 33 s.
    var calibrationGap = false
}

let scenarios = [
    Scenario(name: "offset only"),
    Scenario(name: "200 ppm skew + 10 us cal jitter", skewPPM: 200, calibrationJitter: 10_000),
    Scenario(name: "... + 1 ms frame-stamp jitter", skewPPM: 200, calibrationJitter: 10_000, stampJitter: 1_000_000),
    Scenario(name: "offset jump of 2 s at 30.5 s", skewPPM: 200, calibrationJitter: 10_000, jump: 2 * second),
    Scenario(name: "32-bit counter (wraps 4.3 s)", skewPPM: 200, calibrationJitter: 10_000, counterBits: 32),
    Scenario(name: "3 s without calibration", skewPPM: 200, calibrationJitter: 10_000, calibrationGap: true),
]

/// The sender's GPU clock against true CPU time; its sample clock is the GPU clock.
struct GPUClock {
    var scenario: Scenario
    func offset(atCPU cpu: Int64) -> Int64 { 5_000 * second + (scenario.jump != 0 && cpu >= jumpTime ? scenario.jump : 0) }
    func gpu(atCPU cpu: Int64) -> Int64 { cpu + offset(atCPU: cpu) + Int64((Double(cpu - start) * scenario.skewPPM * 1e-6).rounded()) }
    func reading(_ gpu: Int64) -> Int64 { scenario.counterBits == 64 ? gpu : gpu & ((Int64(1) << scenario.counterBits) - 1) }
    /// True CPU time of a GPU time (inverse of `gpu(atCPU:)` within the current offset segment).
    func cpu(atGPU gpu: Int64, segmentOffset: Int64) -> Int64 {
        start + Int64((Double(gpu - segmentOffset - start) / (1 + scenario.skewPPM * 1e-6)).rounded())
    }
}

struct Errors {
    /// Every frame's (true time, |error|).
    var frames: [(time: Int64, error: Int64)] = []
    /// Errors from `from` seconds on, for the percentiles.
    func values(from: Int64 = 10) -> [Int64] { frames.filter { $0.time >= start + from * second }.map(\.error) }

    /// How long after `from` the error last exceeded the lock threshold among frames before
    /// `until`; nil if it still exceeds it at the end.
    func lockTime(from: Int64, until: Int64 = .max) -> Int64? {
        let span = frames.filter { $0.time >= from && $0.time < until }
        guard let last = span.last, last.error <= lockThreshold else { return nil }
        return (span.last { $0.error > lockThreshold }?.time).map { $0 - from } ?? 0
    }

    func percentile(_ fraction: Double, from: Int64 = 10) -> Int64 {
        let sorted = values(from: from).sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction))]
    }
}

let seed = ProcessInfo.processInfo.environment["CLOCK_SEED"].flatMap { UInt64($0) } ?? 7

/// Runs one scenario through the engine, the naive method and the floor on the same inputs.
func simulate(_ scenario: Scenario) -> (engine: Errors, naive: Errors, floor: Errors) {
    let clock = GPUClock(scenario: scenario)
    var random = SeededRandomNumberGenerator(seed: seed)
    var calibration = SessionCalibration()
    var timeline = StreamTimeline(nominalRate: SampleRate(hertz: 48_000))
    var naiveOffset: Int64?  // gpu − cpu of the latest block, in raw counter units
    var engine = Errors(), naive = Errors(), floor = Errors()
    var blockErrors: [Int64] = []  // each block's CPU read error, for the floor
    var stampErrors: [Int64] = []  // each frame's stamp error, for the floor

    // The stream starts at 0.5 s; frame k holds samples k·480 … on the GPU sample clock.
    let streamStartGPU = clock.gpu(atCPU: start + second / 2)
    var nextBlock = start
    var frame = 0
    var gpuSegmentOffset = clock.offset(atCPU: start)
    var streamOriginGPU = streamStartGPU
    var streamOriginFrame = 0
    while true {
        let nominalGPU = streamOriginGPU + Int64((Double(Int64((frame - streamOriginFrame) * framePeriodSamples)) * 1e9 / sampleRate).rounded())
        var trueCPU = clock.cpu(atGPU: nominalGPU, segmentOffset: gpuSegmentOffset)
        if trueCPU >= start + duration { break }
        if clock.offset(atCPU: trueCPU) != gpuSegmentOffset {
            // The GPU reset: the sample clock continues in CPU time, its GPU stamps jump.
            gpuSegmentOffset = clock.offset(atCPU: trueCPU)
            streamOriginGPU = clock.gpu(atCPU: trueCPU)
            streamOriginFrame = frame
            trueCPU = clock.cpu(atGPU: streamOriginGPU, segmentOffset: gpuSegmentOffset)
        }
        // Calibration blocks due before this frame is sent.
        while nextBlock <= trueCPU {
            if !(scenario.calibrationGap && nextBlock > start + 30 * second && nextBlock <= start + 33 * second) {
                let error = scenario.calibrationJitter > 0 ? Int64.random(in: -scenario.calibrationJitter...scenario.calibrationJitter, using: &random) : 0
                let gpuReading = clock.reading(clock.gpu(atCPU: nextBlock))
                calibration.add(CalibrationBlock(cpuTimestamp: nextBlock + error, gpuTimestamp: gpuReading, counterBits: scenario.counterBits,
                                                 maxDeviation: scenario.calibrationJitter > 0 ? Double(scenario.calibrationJitter) : nil),
                                receivedAt: Nanoseconds(nextBlock))
                naiveOffset = gpuReading - (nextBlock + error)
                blockErrors.append(error)
            }
            nextBlock += second
        }
        let stampJitter = scenario.stampJitter > 0 ? Int64.random(in: -scenario.stampJitter...scenario.stampJitter, using: &random) : 0
        let stamp = clock.reading(clock.gpu(atCPU: trueCPU) + stampJitter)
        stampErrors.append(stampJitter)

        // The engine: the stream's timeline on the GPU clock, mapped through the calibration.
        if let gpuTime = calibration.gpuTime(forGPUTimestamp: stamp) {
            let placement = timeline.observe(stamp: gpuTime, sampleCount: framePeriodSamples, sequence: UInt64(frame))
            let cpu = calibration.cpuTime(forGPUTime: timeline.line.time(ofSample: placement.firstSample!)!)!
            engine.frames.append((trueCPU, abs(cpu.rawValue - trueCPU)))
        }
        // The floor: with the drift known, the offsets every block allows (its error within ±bound)
        // are [max error − bound, min error + bound]; their centre is off by (max + min) / 2. The
        // same for the stream's stamps (its rate known, over the timeline's 60 s): the two add.
        if let largest = blockErrors.suffix(64).max(), let smallest = blockErrors.suffix(64).min() {
            let stamps = stampErrors.suffix(6_000)
            floor.frames.append((trueCPU, abs(largest + smallest + stamps.max()! + stamps.min()!) / 2))
        }
        // The naive method: this frame's stamp minus the latest block's offset.
        if let naiveOffset {
            naive.frames.append((trueCPU, abs(stamp - naiveOffset - trueCPU)))
        }
        frame += 1
    }
    return (engine, naive, floor)
}

func microseconds(_ nanoseconds: Int64) -> String {
    nanoseconds >= 1_000_000_000 ? String(format: "%.2fs", Double(nanoseconds) / 1e9)
        : nanoseconds >= 1_000_000 ? String(format: "%.2fms", Double(nanoseconds) / 1e6) : String(format: "%.2fus", Double(nanoseconds) / 1e3)
}

print("clock engine simulation: 60 s, blocks at 1 Hz, 10 ms frames; errors from 10 s on (p99 also from 30 s on); seed \(seed);")
print("locked = from when on every frame's error stays within 10 us (from the start, or from the jump);")
print("floor = the drifts given, the offsets the centres of what the blocks' and stamps' bounds allow (no jump)")
print("scenario                          method       p50        p99        max  p99 >=30s     locked")
for scenario in scenarios {
    let (engine, naive, floor) = simulate(scenario)
    let floorApplies = scenario.calibrationJitter > 0 && scenario.jump == 0
    for (method, errors) in [("engine", engine), ("naive", naive)] + (floorApplies ? [("floor", floor)] : []) {
        func seconds(_ time: Int64?) -> String { time.map { String(format: "%.2f s", Double($0) / 1e9) } ?? "never" }
        var lock = seconds(errors.lockTime(from: start, until: scenario.jump != 0 ? jumpTime : .max))
        if scenario.jump != 0 { lock += "; after the jump: " + seconds(errors.lockTime(from: jumpTime)) }
        print(scenario.name.padding(toLength: 34, withPad: " ", startingAt: 0) + method.padding(toLength: 8, withPad: " ", startingAt: 0)
              + [errors.percentile(0.5), errors.percentile(0.99), errors.values().max() ?? 0, errors.percentile(0.99, from: 30)].map { microseconds($0).leftPadded(to: 11) }.joined()
              + "   " + lock)
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
