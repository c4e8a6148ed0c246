import Buffer
import Clock
import Core

/// One stream of a session: its timeline, and what it hands playback (``handoff``).
///
/// Each frame goes through ``receive(stamp:sequence:samples:frameCount:session:)``: placed on the
/// stream's timeline, written into the ring at its sample indices, and the clock chain published
/// at it. Thread: the ingest event loop mutates it (the ring's producer, the timeline's
/// publisher); playback reads the hand-off's ring and timeline.
public final class IngestStream {
    /// What became of a frame.
    enum Receipt: Equatable {
        /// Its stamp lies so far from the stream's line that its sample indices would run out.
        case offTheLine
        /// Written (or refused by the ring, as `outcome` says); `reordered` when it filled a
        /// hole behind newer frames; `firstSampleTime` is when its first sample is due (local
        /// clock, before the latency), nil while the chain cannot say.
        case written(outcome: FrameRing.WriteOutcome, reordered: Bool, firstSampleTime: Nanoseconds?)
    }

    /// What playback plays: the stream's identity, ring and published timeline.
    public let handoff: StreamHandoff
    /// `stream_id`, nil when the frames name none.
    public var streamID: String? { handoff.streamID }
    /// Fixed by the stream's first frame; a change starts a new stream.
    public var sampleRate: SampleRate { handoff.sampleRate }
    /// Fixed by the stream's first frame; a change starts a new stream.
    public var channels: ChannelCount { handoff.channels }
    /// The jitter buffer: ingest writes, playback reads.
    public var ring: FrameRing { handoff.ring }
    /// Whether the frames are stamped on the sender's GPU clock (else its CPU clock).
    public let stampsOnGPU: Bool
    /// Sample index → stamp time (GPU or sender CPU nanoseconds, see ``stampsOnGPU``).
    public private(set) var timeline: StreamTimeline

    /// How its recent frames arrived, against when playback mixes them.
    public internal(set) var arrivals = StreamArrivals()
    /// When it last told that it needs more latency than the player's (nil: never).
    var lastLatencyReport: Nanoseconds?

    /// When it started (local clock): a format change within a second of it is refused.
    let started: Nanoseconds

    /// Called when a frame arrives after a gap.
    private let gapRevealed: (@Sendable () -> Void)?

    /// Makes the stream, its ring holding `ringDuration` of audio at its rate (and, with
    /// `concealment`, its history more, and room for predictions), its timeline fitted as
    /// `timeline` says; nil when `budget` refuses the ring.
    init?(streamID: String?, sampleRate: SampleRate, channels: ChannelCount, stampsOnGPU: Bool, ringDuration: Nanoseconds,
          budget: BufferBudget, concealment: ConcealmentSettings? = nil, gapRevealed: (@Sendable () -> Void)? = nil,
          timeline configuration: StreamTimeline.Configuration = StreamTimeline.Configuration(), now: Nanoseconds) {
        // Sized by rate and channels alone (never by what a frame says of itself), within the budget.
        let frames = ringDuration.seconds * Double(sampleRate.hertz)
        let retained = concealment.map { ConcealmentSettings.frames($0.history, at: sampleRate) } ?? 0
        guard frames.isFinite, frames >= 1, frames < 1e12,
              let ring = FrameRing(channels: channels, capacity: Int(frames.rounded(.up)) + retained, retained: retained, budget: budget)
        else { return nil }
        // Without room for predictions the stream still plays, its gaps silent.
        let prepared = concealment.flatMap {
            PreparedConcealment(channels: channels, capacity: ConcealmentSettings.frames($0.limit, at: sampleRate), budget: budget)
        }
        handoff = StreamHandoff(streamID: streamID, sampleRate: sampleRate, channels: channels, ring: ring, concealment: prepared)
        self.gapRevealed = prepared == nil ? nil : gapRevealed
        self.stampsOnGPU = stampsOnGPU
        started = now
        timeline = StreamTimeline(nominalRate: sampleRate, configuration: configuration)
    }

    /// Takes one frame of `frameCount` sample frames stamped `stamp` (on the stream's clock,
    /// already checked and scaled) that arrived at `arrival`: places it on the timeline, writes
    /// `samples` into the ring and publishes the clock chain through `session`'s clocks at its
    /// first sample; a frame that leaves a gap behind it wakes the concealment worker.
    func receive(stamp: Nanoseconds, sequence: UInt64?, samples: UnsafeBufferPointer<Float>, frameCount: Int,
                 session: IngestSession, arrival: Nanoseconds) -> Receipt {
        guard let firstSample = timeline.observe(stamp: stamp, sampleCount: frameCount, sequence: sequence).firstSample else {
            return .offTheLine
        }
        let reorderedBefore = ring.reordered
        let newestBefore = ring.newestWrittenEnd
        let outcome = ring.write(firstSample: firstSample, frameCount: frameCount, samples: samples)
        if outcome == .stored {
            handoff.lastFrameLength.store(frameCount, ordering: .relaxed)
            handoff.lastArrival.store(arrival.rawValue, ordering: .releasing)
            if firstSample > newestBefore && newestBefore != .min { gapRevealed?() }
        }
        return .written(outcome: outcome, reordered: ring.reordered > reorderedBefore,
                        firstSampleTime: publish(at: firstSample, session: session))
    }

    /// Linearizes the clock chain at sample `index` for playback (nothing while the session is
    /// not calibrated); returns the local time of that sample.
    private func publish(at index: Int64, session: IngestSession) -> Nanoseconds? {
        let calibration = stampsOnGPU ? session.calibration : nil
        guard let time = ClockChain.localTime(ofSample: index, on: timeline.line, calibration: calibration, host: session.host),
              let rate = ClockChain.localRate(at: index, on: timeline.line, nominalRate: sampleRate,
                                              calibration: calibration, host: session.host)
        else { return nil }
        handoff.timeline.publish(PublishedTimeline.Line(anchorSample: index, anchorTime: time, samplesPerSecond: rate))
        return time
    }
}
