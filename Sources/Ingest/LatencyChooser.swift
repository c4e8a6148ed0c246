import Core

/// `--latency auto`: chooses the player's one latency from what each stream's frames need had
/// they arrived `margin` later (`StreamArrivals`: a latency is in time for a frame only up to
/// the next device period, so the margin goes on the arrival, not on the latency). A frame that
/// needs more than the latency raises it at once; once a second the latency comes down towards
/// what the streams need: at once the first time (a stream's latency is chosen within its first
/// seconds), then a millisecond a second, and not within seconds of a raise. A stream or frame
/// that needs more than the ceiling drags no one: its late frames are counted.
///
/// Thread: the ingest event loop.
public struct LatencyChooser: Sendable {
    /// How much later than seen frames may arrive and still be in time: for the arrivals a window
    /// has not seen yet.
    public static let margin = Nanoseconds.milliseconds(1)
    /// How long after a raise the latency is not lowered.
    public static let holdAfterRaise = Nanoseconds.seconds(3)
    /// How far the latency comes down in one review, once chosen.
    public static let loweringStep = Nanoseconds.milliseconds(1)

    /// The most the latency may be (`--max-latency`).
    public let ceiling: Nanoseconds
    private var lastRaise: Nanoseconds?
    private var chosen = false

    /// A chooser that never goes above `ceiling`.
    public init(ceiling: Nanoseconds) { self.ceiling = ceiling }

    /// A frame needed `needed` (with the margin): the latency to move to at once, if `current`
    /// is too little.
    public mutating func frameNeeded(_ needed: Nanoseconds, current: Nanoseconds, at now: Nanoseconds) -> Nanoseconds? {
        guard needed > current, needed <= ceiling else { return nil }
        lastRaise = now
        return needed
    }

    /// The review, once a second: the latency to move to, given what each stream needs (its
    /// high quantile, with the margin) and the device's floor; nil to stay at `current`.
    public mutating func review(streamNeeds: [Nanoseconds], floor: Nanoseconds, current: Nanoseconds, at now: Nanoseconds) -> Nanoseconds? {
        guard let highest = streamNeeds.filter({ $0 <= ceiling }).max() else {
            chosen = false  // no stream: the next one's latency is chosen afresh
            return nil
        }
        let wanted = min(ceiling, max(floor, highest))
        guard wanted < current else { return nil }
        guard chosen else {
            chosen = true
            return wanted
        }
        if let lastRaise, now >= lastRaise, now - lastRaise < Self.holdAfterRaise { return nil }
        return max(wanted, current - Self.loweringStep)
    }
}
