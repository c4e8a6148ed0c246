import Buffer
import Clock
import Core

/// One stream of a session: its timeline and the ring playback reads.
///
/// Thread: the ingest event loop mutates it; playback reads ``ring`` (the consumer side).
public final class IngestStream {
    /// `stream_id`, nil when the frames name none.
    public let streamID: String?
    /// Fixed by the stream's first frame; a change starts a new stream.
    public let sampleRate: SampleRate
    public let channels: ChannelCount
    /// Whether the frames are stamped on the sender's GPU clock (else its CPU clock).
    public let stampsOnGPU: Bool
    /// The jitter buffer: ingest writes, playback reads.
    public let ring: FrameRing
    /// Sample index → stamp time (GPU or sender CPU nanoseconds, see ``stampsOnGPU``).
    public internal(set) var timeline: StreamTimeline
    /// The whole clock chain, linearized at the latest frame: what playback reads to find the
    /// samples due at a local time.
    public let published = PublishedTimeline()

    /// How its recent frames arrived, against when playback mixes them.
    public internal(set) var arrivals = StreamArrivals()
    /// When it last told that it needs more latency than the player's (nil: never).
    var lastLatencyReport: Nanoseconds?

    /// When it started (local clock): a format change within a second of it is refused.
    let started: Nanoseconds

    /// Makes the stream, its ring holding `ringDuration` of audio at its rate; nil when `budget`
    /// refuses the ring.
    init?(streamID: String?, sampleRate: SampleRate, channels: ChannelCount, stampsOnGPU: Bool, ringDuration: Nanoseconds,
          budget: BufferBudget, now: Nanoseconds) {
        // Sized by rate and channels alone (never by what a frame says of itself), within the budget.
        let frames = ringDuration.seconds * Double(sampleRate.hertz)
        guard frames.isFinite, frames >= 1, frames < 1e12,
              let ring = FrameRing(channels: channels, capacity: Int(frames.rounded(.up)), budget: budget)
        else { return nil }
        self.ring = ring
        self.streamID = streamID
        self.sampleRate = sampleRate
        self.channels = channels
        self.stampsOnGPU = stampsOnGPU
        started = now
        timeline = StreamTimeline(nominalRate: sampleRate)
    }
}
