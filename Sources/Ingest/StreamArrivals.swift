import Core

/// How a stream's recent frames arrived: for each of the last `capacity` frames, how long after
/// its first sample's local time it arrived, and the least latency at which it would have been
/// in the ring before the period playing its first sample was mixed (`PublishedDeviceSchedule`)
/// — as it arrived, and had it arrived `LatencyChooser.margin` later with
/// `LatencyChooser.latencyMargin` added (what `--latency auto` chooses from). Quantiles over
/// that window say what latency the stream needs, and how much margin it has.
///
/// Thread: the ingest event loop records; reads (quantiles) on the same thread.
public struct StreamArrivals: Sendable {
    /// Frames remembered: about 11 s of 256-sample frames at 48 kHz (a sender's rare late
    /// frame, a wake-up missed now and then, stays in view for seconds).
    public static let capacity = 2_048
    /// Frames recorded before `--latency auto` chooses from them, or a shortfall is reported:
    /// 0.7 s of 256-sample frames.
    public static let enoughToChoose = 128

    private var lateness: [Int64] = []
    private var needed: [Int64] = []
    private var neededWithMargin: [Int64] = []
    private var next = 0

    /// Makes an empty record.
    public init() {}

    /// Frames recorded (at most `capacity`).
    public var count: Int { needed.count }

    /// Records a frame that arrived `lateness` after its first sample's time and needed `needed`.
    mutating func record(lateness: Nanoseconds, needed: Nanoseconds, neededWithMargin: Nanoseconds) {
        if self.needed.count < Self.capacity {
            self.lateness.append(lateness.rawValue)
            self.needed.append(needed.rawValue)
            self.neededWithMargin.append(neededWithMargin.rawValue)
        } else {
            self.lateness[next] = lateness.rawValue
            self.needed[next] = needed.rawValue
            self.neededWithMargin[next] = neededWithMargin.rawValue
        }
        next = (next + 1) % Self.capacity
    }

    /// How long after their first sample's time the recent frames arrived: the `quantile`
    /// (0...1) of them; nil before any.
    public func lateness(quantile: Double) -> Nanoseconds? { Self.quantile(quantile, of: lateness) }

    /// The least latency at which the `quantile` (0...1) of the recent frames were mixed whole;
    /// nil before any.
    public func latencyNeeded(quantile: Double) -> Nanoseconds? { Self.quantile(quantile, of: needed) }

    /// The most any of the recent frames needed had it arrived `LatencyChooser.margin` later,
    /// with `LatencyChooser.latencyMargin` added; nil before any.
    public var mostNeededWithMargin: Nanoseconds? { neededWithMargin.max().map { Nanoseconds($0) } }

    private static func quantile(_ quantile: Double, of values: [Int64]) -> Nanoseconds? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let index = min(sorted.count - 1, max(0, Int((quantile * Double(sorted.count)).rounded(.up)) - 1))
        return Nanoseconds(sorted[index])
    }
}
