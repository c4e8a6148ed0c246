/// A number of bytes: buffer capacities, line limits, traffic totals.
///
/// Thread: any. Non-allocating.
public struct ByteCount: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The count of bytes.
    public var rawValue: Int

    /// Wraps a count of bytes.
    @inlinable public init(rawValue: Int) { self.rawValue = rawValue }

    /// Wraps a count of bytes.
    @inlinable public init(_ bytes: Int) { self.rawValue = bytes }

    /// `kibibytes` × 1024.
    @inlinable public static func kibibytes(_ value: Int) -> ByteCount { ByteCount(value << 10) }

    /// `mebibytes` × 1024².
    @inlinable public static func mebibytes(_ value: Int) -> ByteCount { ByteCount(value << 20) }

    @inlinable public static func < (lhs: ByteCount, rhs: ByteCount) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `"1 MiB"`, `"64 KiB"` or `"17 B"`: the largest binary unit that divides the value exactly.
    public var description: String {
        if rawValue != 0 && rawValue % (1 << 20) == 0 { return "\(rawValue >> 20) MiB" }
        if rawValue != 0 && rawValue % (1 << 10) == 0 { return "\(rawValue >> 10) KiB" }
        return "\(rawValue) B"
    }
}
