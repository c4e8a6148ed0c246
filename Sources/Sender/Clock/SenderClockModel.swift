import Core

/// The sender's three clocks: the device's raw GPU clock, `CLOCK_MONOTONIC`, and the GPU clock it
/// reports (raw through `GPUClockKnobs`).
///
/// Raw GPU ↔ CPU uses the offset of the latest calibration reading: it paces sends and places
/// impulses, where a reading's deviation (microseconds at most) does not matter.
public struct SenderClockModel: Sendable {
    /// The knobs between raw and reported GPU time.
    public let knobs: GPUClockKnobs
    /// Raw GPU time of the first reading: where the skew pivots.
    public let origin: Int64
    /// Raw GPU − CPU at the latest reading.
    public private(set) var rawOffset: Int64

    /// Starts from the first reading.
    public init(knobs: GPUClockKnobs, firstReading: CalibrationReading) {
        self.knobs = knobs
        origin = firstReading.gpu
        rawOffset = firstReading.gpu - firstReading.cpu.rawValue
    }

    /// Follows a newer reading.
    public mutating func update(with reading: CalibrationReading) {
        rawOffset = reading.gpu - reading.cpu.rawValue
    }

    /// The reported (unwrapped) GPU time of a raw one.
    public func reported(rawGPU: Int64) -> Int64 { knobs.reported(raw: rawGPU, origin: origin) }

    /// The reported (unwrapped) GPU time at CPU time `cpu`.
    public func reportedGPU(atCPU cpu: Nanoseconds) -> Int64 { reported(rawGPU: cpu.rawValue + rawOffset) }

    /// The CPU time at which the reported GPU clock reads `reportedGPU` (unwrapped).
    public func cpuTime(ofReportedGPU reportedGPU: Int64) -> Nanoseconds {
        Nanoseconds(knobs.raw(reported: reportedGPU, origin: origin) - rawOffset)
    }
}
