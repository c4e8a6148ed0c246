import Core

/// One calibration reading as the clock engine takes it: an instant on the sender's CPU clock and
/// on its GPU clock (the engine does not know the wire format; ingest fills this in).
public struct CalibrationBlock: Hashable, Sendable {
    /// The instant on the sender's CPU clock, in `unit` (nanoseconds when `unit` is ticks).
    public var cpuTimestamp: Int64
    /// The same instant on the GPU counter, in `unit`, below 2^`counterBits` when narrower than 64.
    public var gpuTimestamp: Int64
    /// The unit of the timestamps.
    public var unit: TimestampUnit
    /// The GPU counter's width, 1…64.
    public var counterBits: Int
    /// How far apart the two reads may be, in `unit` (nanoseconds when ticks); weights the fit.
    public var maxDeviation: Double?

    /// Makes a block.
    public init(cpuTimestamp: Int64, gpuTimestamp: Int64, unit: TimestampUnit = .nanoseconds, counterBits: Int = 64, maxDeviation: Double? = nil) {
        self.cpuTimestamp = cpuTimestamp
        self.gpuTimestamp = gpuTimestamp
        self.unit = unit
        self.counterBits = counterBits
        self.maxDeviation = maxDeviation
    }
}
