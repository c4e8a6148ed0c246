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

/// The tests' seeded generator.
typealias SeededRandom = SeededRandomNumberGenerator

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
