/// A signed duration or instant on a nanosecond clock, exact over the whole `Int64` range.
///
/// Instants are nanoseconds since the clock's epoch (for `CLOCK_MONOTONIC`, boot). Arithmetic traps
/// on overflow, as integer arithmetic does: callers that take values from the network check ranges
/// first. Thread: any. Non-allocating.
public struct Nanoseconds: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The count of nanoseconds.
    public var rawValue: Int64

    /// Wraps a count of nanoseconds.
    @inlinable public init(rawValue: Int64) { self.rawValue = rawValue }

    /// Wraps a count of nanoseconds.
    @inlinable public init(_ nanoseconds: Int64) { self.rawValue = nanoseconds }

    /// Zero nanoseconds.
    public static let zero = Nanoseconds(0)

    /// `microseconds` × 1000.
    @inlinable public static func microseconds(_ value: Int64) -> Nanoseconds { Nanoseconds(value * 1_000) }

    /// `milliseconds` × 1 000 000.
    @inlinable public static func milliseconds(_ value: Int64) -> Nanoseconds { Nanoseconds(value * 1_000_000) }

    /// `seconds` × 1 000 000 000.
    @inlinable public static func seconds(_ value: Int64) -> Nanoseconds { Nanoseconds(value * 1_000_000_000) }

    /// The value in seconds, for display and for rate estimates (not exact above 2^53 ns).
    @inlinable public var seconds: Double { Double(rawValue) / 1e9 }

    @inlinable public static func < (lhs: Nanoseconds, rhs: Nanoseconds) -> Bool { lhs.rawValue < rhs.rawValue }
    @inlinable public static func + (lhs: Nanoseconds, rhs: Nanoseconds) -> Nanoseconds { Nanoseconds(lhs.rawValue + rhs.rawValue) }
    @inlinable public static func - (lhs: Nanoseconds, rhs: Nanoseconds) -> Nanoseconds { Nanoseconds(lhs.rawValue - rhs.rawValue) }
    @inlinable public static prefix func - (value: Nanoseconds) -> Nanoseconds { Nanoseconds(-value.rawValue) }
    @inlinable public static func += (lhs: inout Nanoseconds, rhs: Nanoseconds) { lhs.rawValue += rhs.rawValue }
    @inlinable public static func -= (lhs: inout Nanoseconds, rhs: Nanoseconds) { lhs.rawValue -= rhs.rawValue }

    /// `"12.5ms"`-style text: the largest unit that keeps the value readable.
    public var description: String {
        let magnitude = rawValue.magnitude
        if magnitude >= 1_000_000_000 { return "\(Double(rawValue) / 1e9)s" }
        if magnitude >= 1_000_000 { return "\(Double(rawValue) / 1e6)ms" }
        if magnitude >= 1_000 { return "\(Double(rawValue) / 1e3)us" }
        return "\(rawValue)ns"
    }
}

extension Nanoseconds {
    /// The largest magnitude a time taken from the network may have: 2^62 − 1 ns (146 years), so
    /// that the sum or difference of any two such times fits in an `Int64`.
    public static let networkLimit = Nanoseconds((1 << 62) - 1)

    /// Whether the value lies within ±``networkLimit``.
    @inlinable public var isWithinNetworkLimit: Bool { rawValue.magnitude <= UInt64(Nanoseconds.networkLimit.rawValue) }

    /// `value` nanoseconds rounded to the nearest whole one; nil when it is not finite or beyond
    /// ±``networkLimit``: the checked way from a `Double` (`Int64(_:)` traps on those).
    @inlinable public init?(rounding value: Double) {
        guard value.magnitude < 4_611_686_018_427_387_904 else { return nil }  // 2^62; false for NaN
        self.init(Int64(value.rounded()))
    }
}

extension Nanoseconds {
    /// Parses a duration as users write one: `"250ms"`, `"1.5s"`, `"500us"` (or `µs`), `"2000000ns"`,
    /// `"2min"`, or a bare number of seconds (`"1.5"`). Nil for anything else, negative values included.
    public init?(duration text: String) {
        let units: [(suffix: String, scale: Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("min", 60e9), ("s", 1e9)]
        let unit = units.first { text.hasSuffix($0.suffix) }
        guard let value = Double(text.dropLast(unit?.suffix.count ?? 0)), value.isFinite, value >= 0 else { return nil }
        let nanoseconds = value * (unit?.scale ?? 1e9)
        guard nanoseconds < 9e18 else { return nil }
        self.init(Int64(nanoseconds.rounded()))
    }
}

extension Nanoseconds {
    /// Parses a duration that may be negative: ``init(duration:)`` after an optional `-`
    /// (`"-2ms"`), as an offset is written.
    public init?(signedDuration text: String) {
        let negative = text.hasPrefix("-")
        guard let magnitude = Nanoseconds(duration: negative ? String(text.dropFirst()) : text) else { return nil }
        self = negative ? -magnitude : magnitude
    }
}
