/// Sample frames per second of a stream or a device.
///
/// Thread: any. Non-allocating.
public struct SampleRate: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Frames per second.
    public var rawValue: Int

    /// Wraps a rate in hertz.
    @inlinable public init(rawValue: Int) { self.rawValue = rawValue }

    /// Wraps a rate in hertz.
    @inlinable public init(hertz: Int) { self.rawValue = hertz }

    /// The rate in hertz.
    @inlinable public var hertz: Int { rawValue }

    /// The jamnet default, 48 kHz.
    public static let standard = SampleRate(hertz: 48_000)

    /// The range jamnet accepts: 1 Hz to 768 kHz.
    public static let supported: ClosedRange<Int> = 1...768_000

    @inlinable public static func < (lhs: SampleRate, rhs: SampleRate) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `"48000 Hz"`.
    public var description: String { "\(rawValue) Hz" }
}
