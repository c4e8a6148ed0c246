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

extension ByteCount {
    /// Parses a size as users write one: `"1MiB"`, `"64KiB"`, `"2GiB"` (binary), `"1MB"`, `"64kB"`
    /// (decimal), `"512B"` or a bare number of bytes. Nil for anything else, fractions of a byte included.
    public init?(size text: String) {
        let units: [(suffix: String, scale: Double)] = [("KiB", 1_024), ("MiB", 1_048_576), ("GiB", 1_073_741_824),
                                                        ("kB", 1e3), ("MB", 1e6), ("GB", 1e9), ("B", 1)]
        let unit = units.first { text.hasSuffix($0.suffix) }
        let number = text.dropLast(unit?.suffix.count ?? 0).filter { $0 != " " }
        guard !number.isEmpty, let value = Double(number), value.isFinite, value >= 0 else { return nil }
        let bytes = value * (unit?.scale ?? 1)
        guard bytes < 9e18, bytes == bytes.rounded() else { return nil }
        self.init(Int(bytes))
    }
}
