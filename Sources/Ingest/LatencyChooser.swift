import Core

/// `--latency auto`: chooses the player's one latency from what each stream's recent frames (all
/// of `StreamArrivals`' window) need had they arrived `margin` later, and `latencyMargin` more (a
/// latency is in time for a frame only up to the next device period, so the margin for late
/// arrivals goes on the arrival, not on the latency). A frame that needs more than the latency
/// raises it at once; once a second the latency comes down towards what the streams need: at
/// once the first time (a stream's latency is chosen within its first seconds), then a
/// millisecond a second, and not within a minute of a raise. A stream or frame that needs more
/// than the ceiling drags no one: its late frames are counted.
///
/// Thread: the ingest event loop.
public struct LatencyChooser: Sendable {
    /// How much later than seen frames may arrive and still be in time: for the arrivals a window
    /// has not seen yet. Each millisecond here costs a whole device period at the phases whose
    /// frames arrive within it of their mix (with 2 ms, over a third of them).
    public static let margin = Nanoseconds.milliseconds(1)
    /// What the latency keeps above the most a frame needed (had it arrived `margin` later): a
    /// frame needs the latency that puts its first sample at the start of the first period
    /// mixed after it came, exactly, and that start moves as the sender's clock and the device's
    /// drift apart (chosen at exactly the need, a settled stream lost a frame now and then).
    public static let latencyMargin = Nanoseconds.microseconds(500)
    /// How long after a raise the latency is not lowered: longer than the arrival window, for a
    /// stream whose frames only now and then need a period more (they arrive close to their mix)
    /// would otherwise come down once its window forgot them, and lose the next such frame (on the
    /// rig, with 3 s: a gap every 20 s or so at such phases).
    public static let holdAfterRaise = Nanoseconds.seconds(60)
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

    /// The review, once a second: the latency to move to, given what each stream needs (the most
    /// any of its recent frames needed, with the margin) and the device's floor; nil to stay at
    /// `current`.
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
