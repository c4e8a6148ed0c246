import Core

/// A stream's clock chain, linearized, as the real-time thread reads it: sample index ↔ local time.
///
/// The ingest thread publishes a line (an anchor sample, its local time, and the stream's sample
/// rate against the local clock) whenever a frame arrives; the playback thread reads a consistent
/// copy without locks (`SequenceLockedWords`: it retries while a publish is in progress, which
/// takes a few stores). The real-time reader retries only a few times (``line(orElse:)``): a publisher
/// preempted mid-publish by that very thread, on a busy machine, could otherwise keep it spinning.
/// The chain is smooth over seconds, so a line per frame is exact to well under a nanosecond per
/// sample period. Thread: one publisher (ingest); readers on any thread, including playback (RT):
/// lock-free, non-allocating.
public final class PublishedTimeline: Sendable {
    /// One consistent copy of the line.
    public struct Line: Hashable, Sendable {
        /// A sample frame index on the stream.
        public var anchorSample: Int64
        /// Its local `CLOCK_MONOTONIC` time.
        public var anchorTime: Nanoseconds
        /// Sample frames per local second.
        public var samplesPerSecond: Double

        /// Makes a line.
        public init(anchorSample: Int64, anchorTime: Nanoseconds, samplesPerSecond: Double) {
            self.anchorSample = anchorSample
            self.anchorTime = anchorTime
            self.samplesPerSecond = samplesPerSecond
        }

        /// The (fractional) sample index due at local time `time`; whatever the line holds, this
        /// never traps (it may be far off, or not finite, for a line no clock chain makes).
        @inlinable public func sampleIndex(at time: Nanoseconds) -> Double {
            let (elapsed, overflow) = time.rawValue.subtractingReportingOverflow(anchorTime.rawValue)
            let seconds = (overflow ? Double(time.rawValue) - Double(anchorTime.rawValue) : Double(elapsed)) * 1e-9
            return Double(anchorSample) + seconds * samplesPerSecond
        }
    }

    private let words = SequenceLockedWords()

    /// Makes a timeline with nothing published (`line` is nil until the first publish).
    public init() {}

    /// Publishes a new line. Thread: the one publisher.
    public func publish(_ line: Line) {
        words.publish(Self.words(of: line))
    }

    /// Marks a publish in progress: tests hold one open, as a preempted publisher would.
    func beginPublish() { words.beginPublish() }

    /// Stores `line` and ends the publish in progress.
    func endPublish(_ line: Line) { words.endPublish(Self.words(of: line)) }

    /// The latest line, nil before the first publish; waits out a publish in progress.
    /// Thread: any but playback (RT), which uses ``line(orElse:)``.
    public var line: Line? {
        guard case .consistent(let line) = words.read() else { return nil }
        return Self.line(of: line)
    }

    /// The latest line, or `fallback` (the reader's previous copy) when a publish stays in
    /// progress over a few tries. Thread: playback (RT). Lock-free, non-allocating, bounded.
    public func line(orElse fallback: Line?) -> Line? {
        switch words.read(attempts: Self.realtimeReadAttempts) {
        case .unpublished: nil
        case .consistent(let line): Self.line(of: line)
        case .torn: fallback
        }
    }

    /// Tries before the real-time reader keeps its previous copy (a publish takes a few stores).
    static let realtimeReadAttempts = 64

    private static func words(of line: Line) -> SequenceLockedWords.Words {
        (line.anchorSample, line.anchorTime.rawValue, Int64(bitPattern: line.samplesPerSecond.bitPattern), 0)
    }

    private static func line(of words: SequenceLockedWords.Words) -> Line {
        Line(anchorSample: words.0, anchorTime: Nanoseconds(words.1), samplesPerSecond: Double(bitPattern: UInt64(bitPattern: words.2)))
    }
}
