import Core

/// A `sync_calibration_block`: one instant read on the sender's CPU clock and on its GPU clock.
public struct SyncCalibrationBlock: Hashable, Sendable {
    /// Which side read the pair (informational for the fit's weighting).
    public enum Origin: String, CaseIterable, Hashable, Sendable {
        case sender, receiver, midpoint
    }

    /// The counter widths `timestamp_bits` may give: 16 to 64 bits.
    public static let counterWidths: ClosedRange<Int> = 16...64
    /// The tick periods `tick_period_ns` may give: 0.01 ns (100 GHz) to 1 ms (1 kHz).
    public static let tickPeriods: ClosedRange<Double> = 0.01...1_000_000

    /// The protocol version the message declared (or `jamnet/1.0`).
    public var version: ProtocolVersion
    /// `timestamp_cpu`.
    public var timestampCPU: Int64
    /// `timestamp_gpu`, below 2^`timestampBits`.
    public var timestampGPU: Int64
    /// `timestamp_unit` (default nanoseconds): with `ticks`, only the GPU timestamps count ticks;
    /// CPU timestamps and `max_deviation` are then nanoseconds.
    public var unit: TimestampUnit
    /// `timestamp_bits`, 16…64 (default 64): the GPU counter's width; narrower counters wrap.
    public var timestampBits: Int
    /// `max_deviation`, in `unit`: how far apart the two reads may be.
    public var maxDeviation: Double?
    /// `clock_base`, informational.
    public var clockBase: String?
    /// `session_id`, if given.
    public var sessionID: String?
    /// `origin` (default sender).
    public var origin: Origin

    /// Makes a block; defaults are the protocol's.
    public init(
        version: ProtocolVersion = .current, timestampCPU: Int64, timestampGPU: Int64, unit: TimestampUnit = .nanoseconds,
        timestampBits: Int = 64, maxDeviation: Double? = nil, clockBase: String? = nil, sessionID: String? = nil,
        origin: Origin = .sender
    ) {
        self.version = version
        self.timestampCPU = timestampCPU
        self.timestampGPU = timestampGPU
        self.unit = unit
        self.timestampBits = timestampBits
        self.maxDeviation = maxDeviation
        self.clockBase = clockBase
        self.sessionID = sessionID
        self.origin = origin
    }

    /// offset = gpu − cpu, the protocol's original single-block rule (in `unit`; wraps like the counter).
    public var offset: Int64 { timestampGPU &- timestampCPU }
}
