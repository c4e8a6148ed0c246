/// The unit a sender's timestamps count in (jamnet `timestamp_unit`).
///
/// Thread: any. Non-allocating.
public enum TimestampUnit: Hashable, Sendable, CustomStringConvertible {
    case nanoseconds, microseconds, milliseconds
    /// GPU counter ticks of `periodNanoseconds` each.
    case ticks(periodNanoseconds: Double)

    /// Nanoseconds per unit for the decimal units; nil for ticks, whose period is not an integer.
    public var integerNanoseconds: Int64? {
        switch self {
        case .nanoseconds: 1
        case .microseconds: 1_000
        case .milliseconds: 1_000_000
        case .ticks: nil
        }
    }

    /// A CPU timestamp in this unit (nanoseconds with ticks) as nanoseconds; nil beyond
    /// ±``Nanoseconds/networkLimit``.
    public func nanoseconds(ofCPUTimestamp value: Int64) -> Nanoseconds? {
        let (product, overflow) = value.multipliedReportingOverflow(by: integerNanoseconds ?? 1)
        return !overflow && Nanoseconds(product).isWithinNetworkLimit ? Nanoseconds(product) : nil
    }

    /// A GPU timestamp in this unit (ticks with ticks) as nanoseconds, rounded; nil beyond
    /// ±``Nanoseconds/networkLimit``.
    public func nanoseconds(ofGPUTimestamp value: Int64) -> Nanoseconds? {
        guard case .ticks(let period) = self else { return nanoseconds(ofCPUTimestamp: value) }
        return Nanoseconds(rounding: Double(value) * period)
    }

    /// One second in the unit of `max_deviation` (nanoseconds with ticks).
    public var oneSecondOfDeviation: Double {
        switch self {
        case .nanoseconds, .ticks: 1e9
        case .microseconds: 1e6
        case .milliseconds: 1e3
        }
    }

    /// `"ns"`, `"us"`, `"ms"` or `"ticks of 52.08 ns"`.
    public var description: String {
        switch self {
        case .nanoseconds: "ns"
        case .microseconds: "us"
        case .milliseconds: "ms"
        case .ticks(let period): "ticks of \(period) ns"
        }
    }
}
