import Core

/// How long before the device takes a period the playback loop writes it: the margin that covers
/// the loop's wake-up and render time and the device timeline's error. It sets the device path:
/// a sample must be in its ring this long and a period before it is heard. It starts at a
/// default, rises one `step` after every underrun, and never passes `limit` (what the device's
/// buffer can hold beyond the period being written).
///
/// Thread: playback (RT) owns it once the loop runs. A value type, non-allocating.
public struct DeviceFill: Hashable, Sendable {
    /// The fill now.
    public private(set) var target: Nanoseconds
    /// What an underrun adds.
    public let step: Nanoseconds
    /// The largest fill the device's buffer allows.
    public let limit: Nanoseconds

    /// A fill of `target` (at most `limit`) that rises by `step`.
    public init(target: Nanoseconds, step: Nanoseconds, limit: Nanoseconds) {
        self.target = min(target, limit)
        self.step = step
        self.limit = limit
    }

    /// Raises the fill one step after an underrun; false when it is at its limit already.
    public mutating func raise() -> Bool {
        guard target < limit else { return false }
        target = min(target + step, limit)
        return true
    }
}
