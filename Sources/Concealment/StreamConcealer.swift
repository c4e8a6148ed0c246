import Buffer
import Core

/// The concealment worker's side of one stream: finds the stream's gaps before playback reaches
/// them and prepares their predictions in the stream's ``PreparedConcealment``.
///
/// A gap the frames after it have come for is predicted from both sides; a frame that is overdue
/// (later than its predecessor's arrival and length say, by the margin) is predicted forward, as
/// far as the limit, fading out before it. The history before a gap is what the ring still holds
/// behind the reader, with the worker's own last prediction filling the gaps in it (what
/// playback played there). All memory is allocated by `init`.
/// Thread: made on any thread; ``service(now:)`` on one thread at a time (the worker's).
public final class StreamConcealer: @unchecked Sendable {
    /// The stream.
    public let handoff: StreamHandoff
    /// The memory it takes (``byteCount(channels:rate:settings:)``).
    public let byteCount: ByteCount
    private unowned(unsafe) let prepared: PreparedConcealment
    private let concealer: GapConcealer
    private let channels: Int, history: Int, limit: Int, fade: Int, crossfade: Int
    private let frameNanoseconds: Double
    private let margin: Nanoseconds
    /// The audio before a gap and after it, as peeked, and which frames were there.
    private let before: UnsafeMutablePointer<Float>, after: UnsafeMutablePointer<Float>
    private let present: UnsafeMutablePointer<Bool>
    /// The last prediction made (what playback played in its gap, if the gap came).
    private let lastPrediction: UnsafeMutablePointer<Float>
    private var lastStart: Int64 = .min, lastFrames = 0, lastTwoSided = false
    /// Where the search for gaps behind the frontier left off.
    private var searchedUpTo: Int64 = .min
    /// Predictions made so far.
    public private(set) var predictionsMade = 0

    /// The memory a stream of `channels` at `rate` takes here with `settings`.
    public static func byteCount(channels: ChannelCount, rate: SampleRate, settings: ConcealmentSettings) -> ByteCount {
        let history = ConcealmentSettings.frames(settings.history, at: rate), limit = ConcealmentSettings.frames(settings.limit, at: rate)
        let floats = (2 * history + 2 * limit) * channels.rawValue
        // The predictors' own: the linear predictor's errors, the periodic extender's sums and line.
        let doubles = 2 * history + history + history / 4 + history + limit
        return ByteCount(floats * 4 + history + doubles * 8)
    }

    /// Prepares to conceal `handoff`'s gaps into its `prepared` predictions with `settings`.
    public init(_ handoff: StreamHandoff, prepared: PreparedConcealment, settings: ConcealmentSettings) {
        self.handoff = handoff
        self.prepared = prepared
        let rate = handoff.sampleRate
        channels = handoff.channels.rawValue
        history = ConcealmentSettings.frames(settings.history, at: rate)
        limit = prepared.capacity
        fade = min(limit, ConcealmentSettings.frames(settings.fade, at: rate))
        crossfade = ConcealmentSettings.frames(settings.crossfade, at: rate)
        frameNanoseconds = 1e9 / Double(max(1, rate.hertz))
        margin = settings.overdueMargin
        byteCount = Self.byteCount(channels: handoff.channels, rate: rate, settings: settings)
        concealer = GapConcealer(channels: channels, rate: rate.hertz, maximumGap: limit, order: settings.order, window: history)
        before = .allocate(capacity: history * channels)
        before.initialize(repeating: 0, count: history * channels)
        after = .allocate(capacity: history * channels)
        after.initialize(repeating: 0, count: history * channels)
        present = .allocate(capacity: history)
        present.initialize(repeating: false, count: history)
        lastPrediction = .allocate(capacity: limit * channels)
        lastPrediction.initialize(repeating: 0, count: limit * channels)
        let frontier = handoff.ring.newestWrittenEnd
        if frontier != .min { searchedUpTo = frontier &- Int64(handoff.lastFrameLength.load(ordering: .relaxed)) }
    }

    deinit {
        before.deallocate()
        after.deallocate()
        present.deallocate()
        lastPrediction.deallocate()
    }

    /// Predicts what is due: a gap behind the newest frame that playback has not reached, or the
    /// frame after the newest one if it is overdue. Returns when to look again.
    public func service(now: Nanoseconds) -> Nanoseconds {
        let ring = handoff.ring
        let frontier = ring.newestWrittenEnd, reader = ring.readPosition
        let arrival = handoff.lastArrival.load(ordering: .acquiring)
        let frameLength = handoff.lastFrameLength.load(ordering: .relaxed)
        // A stream being made: its first frame is a moment away.
        guard frontier != .min, arrival != .min, frameLength > 0 else { return now + .milliseconds(5) }
        let frameDuration = Nanoseconds(Int64(min(Double(frameLength) * frameNanoseconds, 1e12)))

        // Gaps the frames after them have come for, that playback has not reached: searched for
        // from the newest frame when first seen (before it is the time before the stream).
        if searchedUpTo == .min { searchedUpTo = frontier &- Int64(frameLength) }
        var searchFrom = max(searchedUpTo, reader)
        while let gap = ring.firstGap(from: searchFrom, to: frontier) {
            if (reader == .min || reader <= gap.lowerBound) && !(lastStart == gap.lowerBound && lastTwoSided) { predictBetween(gap) }
            searchFrom = gap.upperBound
        }
        searchedUpTo = frontier

        // The frame after the newest: overdue?
        let due = Nanoseconds(arrival) + frameDuration + margin
        guard now >= due else { return due }
        if lastStart != frontier && (reader == .min || reader <= frontier) {
            // Not before playback comes near it: until then the frame may yet come, or the one
            // after it, and the gap be predicted from both sides (with more latency, most are).
            let ahead = reader == .min ? 0 : Double(frontier - reader) * frameNanoseconds
            let wait = Nanoseconds(Int64(min(ahead, 1e10))) - Self.forwardLead
            if wait > .zero { return now + min(wait, frameDuration) }
            predictForward(from: frontier)
        }
        // Look again a frame later (a frame that comes after the gap wakes the worker sooner);
        // a stream silent for a second has paused or ended: rarely.
        return now - Nanoseconds(arrival) > .seconds(1) ? now + .milliseconds(100) : now + frameDuration
    }

    /// How long before playback reads the frame after the newest a forward prediction of it is
    /// made: a device period of up to 10 ms and the prediction's own time, with room to spare.
    static let forwardLead = Nanoseconds.milliseconds(15)

    /// Predicts the gap `gap` from both sides, or (longer than the limit, or nothing after it
    /// to use) forward from before it.
    private func predictBetween(_ gap: Range<Int64>) {
        let length = gap.upperBound - gap.lowerBound
        guard length <= Int64(limit), let earlier = audio(endingAt: gap.lowerBound) else {
            predictForward(from: gap.lowerBound)
            return
        }
        // After the gap: what arrived, up to the next gap.
        guard handoff.ring.peek(from: gap.upperBound, frameCount: history, into: after, present: present) else { return }
        var later = 0
        while later < history && present[later] { later += 1 }
        let frames = Int(length)
        let output = prepared.beginPrediction(for: gap.lowerBound, passed: handoff.ring.readPosition)
        concealer.bridge(before: earlier.samples, beforeFrames: earlier.frames, after: after, afterFrames: later, gap: frames,
                         crossfade: crossfade, into: output)
        publish(output, start: gap.lowerBound, frames: frames, twoSided: true)
    }

    /// Predicts forward from stream position `start`, as far as the limit, fading out before it.
    private func predictForward(from start: Int64) {
        guard let earlier = audio(endingAt: start) else { return }
        let output = prepared.beginPrediction(for: start, passed: handoff.ring.readPosition)
        guard concealer.continueForward(history: earlier.samples, historyFrames: earlier.frames, count: limit, into: output) else { return }
        GapConcealer.fadeOut(output + (limit - fade) * channels, frames: fade, channels: channels)
        publish(output, start: start, frames: limit, twoSided: false)
    }

    /// The audio before stream position `end` that a prediction can continue: what the ring
    /// holds there, with gaps filled from the last prediction where it covers them; the newest
    /// stretch without a gap. Nil when there is none, or the ring could not be read.
    private func audio(endingAt end: Int64) -> (samples: UnsafePointer<Float>, frames: Int)? {
        let (start, overflow) = end.subtractingReportingOverflow(Int64(history))
        guard !overflow, handoff.ring.peek(from: start, frameCount: history, into: before, present: present) else { return nil }
        var frames = 0
        while frames < history {
            let index = history - 1 - frames
            if !present[index] {
                // Missing: what the last prediction put there, if it covers it.
                let offset = start + Int64(index) &- lastStart
                guard lastStart != .min, offset >= 0, offset < Int64(lastFrames) else { break }
                (before + index * channels).update(from: lastPrediction + Int(offset) * channels, count: channels)
            }
            frames += 1
        }
        guard frames > 0 else { return nil }
        return (UnsafePointer(before + (history - frames) * channels), frames)
    }

    /// Hands the prediction written to `output` to playback, keeping a copy.
    private func publish(_ output: UnsafeMutablePointer<Float>, start: Int64, frames: Int, twoSided: Bool) {
        lastPrediction.update(from: output, count: frames * channels)
        lastStart = start
        lastFrames = frames
        lastTwoSided = twoSided
        predictionsMade += 1
        prepared.publish(start: start, frames: frames, endsOnAudio: twoSided)
    }
}
