import Core
import Wire

/// One instant read on the device's raw GPU clock and on `CLOCK_MONOTONIC`.
public struct CalibrationReading: Hashable, Sendable {
    /// Raw device GPU time, nanoseconds (unwrapped).
    public var gpu: Int64
    /// `CLOCK_MONOTONIC` at the same instant.
    public var cpu: Nanoseconds
    /// How far apart the two reads may be, nanoseconds.
    public var maxDeviation: Double
    /// Who read the pair: the driver (`sender`) or a CPU bracket around a GPU timestamp (`midpoint`).
    public var origin: SyncCalibrationBlock.Origin

    /// Makes a reading.
    public init(gpu: Int64, cpu: Nanoseconds, maxDeviation: Double, origin: SyncCalibrationBlock.Origin) {
        self.gpu = gpu
        self.cpu = cpu
        self.maxDeviation = maxDeviation
        self.origin = origin
    }
}

/// Where the sender's timestamps come from: a Vulkan device, or `CLOCK_MONOTONIC` alone.
public protocol TimestampSource {
    /// `clock_base` of the blocks it produces (informational on the wire).
    var clockBase: String { get }
    /// Reads the raw GPU clock and the CPU clock at one instant.
    mutating func readCalibration() throws -> CalibrationReading
}

/// `--clock cpu`: the "GPU" clock is `CLOCK_MONOTONIC` itself, so every pair is exact.
public struct MonotonicTimestampSource: TimestampSource {
    private let clock = SystemMonotonicClock()

    /// Makes the source.
    public init() {}

    /// `CLOCK_MONOTONIC`.
    public var clockBase: String { "CLOCK_MONOTONIC" }

    /// One read, used as both sides of the pair.
    public mutating func readCalibration() -> CalibrationReading {
        let now = clock.now()
        return CalibrationReading(gpu: now.rawValue, cpu: now, maxDeviation: 0, origin: .sender)
    }
}
