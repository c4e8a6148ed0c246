import Clock
import Core

/// A sender's clocks for tests: a GPU counter with an offset, a skew and a width against a true
/// CPU timeline; readings are what it would put on the wire.
struct SimulatedGPUClock {
    var offset: Int64 = 5_000_000_000_000
    var skewPPM: Double = 0
    var bits = 64
    /// CPU time at which the skew is zero-referenced.
    var origin: Int64 = 1_000_000_000_000

    /// The true (unwrapped) GPU time at CPU time `cpu`, in nanoseconds.
    func gpuTime(atCPU cpu: Int64) -> Int64 {
        offset + cpu + Int64((Double(cpu - origin) * skewPPM * 1e-6).rounded())
    }

    /// The counter reading at CPU time `cpu`.
    func reading(atCPU cpu: Int64) -> Int64 {
        let unwrapped = gpuTime(atCPU: cpu)
        return bits == 64 ? unwrapped : unwrapped & ((Int64(1) << bits) - 1)
    }

    /// A calibration block read at CPU time `cpu`, its CPU read off by `cpuError` nanoseconds.
    func block(atCPU cpu: Int64, cpuError: Int64 = 0, maxDeviation: Double? = nil) -> CalibrationBlock {
        CalibrationBlock(cpuTimestamp: cpu + cpuError, gpuTimestamp: reading(atCPU: cpu), counterBits: bits, maxDeviation: maxDeviation)
    }
}

/// A seeded generator (SplitMix64), so every random test is repeatable.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

extension SessionCalibration {
    /// Worst |error| in nanoseconds over frames stamped at the given CPU times.
    mutating func worstError(_ clock: SimulatedGPUClock, atCPU times: some Sequence<Int64>) -> Int64 {
        var worst: Int64 = 0
        for cpu in times {
            guard let mapped = cpuTime(forGPUTimestamp: clock.reading(atCPU: cpu)) else { return .max }
            worst = max(worst, abs(mapped.rawValue - cpu))
        }
        return worst
    }
}
