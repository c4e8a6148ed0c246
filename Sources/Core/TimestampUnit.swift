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
