import Core

/// How lost audio is concealed: the predictor's size, and the lengths that shape what is played.
/// Ingest sizes each stream's ring and prediction room by it, the concealment worker predicts by
/// it, playback crossfades by it. Thread: any (a value).
public struct ConcealmentSettings: Sendable, Hashable {
    /// Coefficients of each channel's linear predictor.
    public var order: Int
    /// How much audio before (and after) a gap the predictor is fitted to.
    public var history: Nanoseconds
    /// The longest gap that is predicted: a gap longer than this fades to silence by then.
    public var limit: Nanoseconds
    /// How long the fade to silence before the limit lasts.
    public var fade: Nanoseconds
    /// How long a forward prediction is crossfaded into the real audio where it resumes.
    public var crossfade: Nanoseconds
    /// How much later than its predecessor's arrival and length say a frame may come before its
    /// gap is predicted (a frame lost, or late).
    public var overdueMargin: Nanoseconds

    /// What jamplay plays with (BENCHMARKS.md, "Loss concealment", measured these).
    public static let standard = ConcealmentSettings(order: 48, history: .milliseconds(40), limit: .milliseconds(60),
                                                     fade: .milliseconds(10), crossfade: .milliseconds(2),
                                                     overdueMargin: .milliseconds(1))

    /// Makes settings.
    public init(order: Int, history: Nanoseconds, limit: Nanoseconds, fade: Nanoseconds, crossfade: Nanoseconds,
                overdueMargin: Nanoseconds) {
        self.order = order
        self.history = history
        self.limit = limit
        self.fade = fade
        self.crossfade = crossfade
        self.overdueMargin = overdueMargin
    }

    /// `duration` in sample frames at `rate`, rounded down, at least 1.
    public static func frames(_ duration: Nanoseconds, at rate: SampleRate) -> Int {
        max(1, Int(Int64(rate.hertz) * max(0, duration.rawValue) / 1_000_000_000))
    }
}
