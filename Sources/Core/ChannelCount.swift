/// The number of interleaved channels in a sample frame.
///
/// Thread: any. Non-allocating.
public struct ChannelCount: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Channels per sample frame.
    public var rawValue: Int

    /// Wraps a channel count.
    @inlinable public init(rawValue: Int) { self.rawValue = rawValue }

    /// Wraps a channel count.
    @inlinable public init(_ channels: Int) { self.rawValue = channels }

    /// Mono, the jamnet default.
    public static let mono = ChannelCount(1)

    /// The range jamnet accepts: 1 to 64 channels.
    public static let supported: ClosedRange<Int> = 1...64

    @inlinable public static func < (lhs: ChannelCount, rhs: ChannelCount) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `"2 ch"`.
    public var description: String { "\(rawValue) ch" }
}
