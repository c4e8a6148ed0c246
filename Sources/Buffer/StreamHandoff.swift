import Core
import Synchronization

/// One stream as ingest hands it to playback: what it is, its jitter buffer and its clock chain,
/// and — with concealment on — where predictions of its gaps are handed over.
///
/// Ingest makes it when a stream's first frame arrives and keeps producing into it (the ring's
/// writes, the timeline's publishes, each frame's arrival); the receiver attaches it to a
/// playback slot, which keeps it alive while the real-time thread reads it, and to the
/// concealment worker. Shared per-stream state that several threads read goes here.
/// Thread: made on the ingest thread; ``ring``, ``timeline`` and ``concealment`` follow their own
/// contracts (one producer, one consumer on playback (RT): lock-free, non-allocating); the
/// atomics are written by one thread each and read by any; the rest is immutable.
public final class StreamHandoff: Sendable {
    /// `stream_id`, nil when the frames name none.
    public let streamID: String?
    /// The stream's sample rate, fixed by its first frame.
    public let sampleRate: SampleRate
    /// Its interleaved channels, fixed by its first frame.
    public let channels: ChannelCount
    /// The jitter buffer: ingest writes, playback reads (and the concealment worker peeks).
    public let ring: FrameRing
    /// The whole clock chain, linearized at the latest frame: what playback reads to find the
    /// samples due at a local time.
    public let timeline: PublishedTimeline
    /// Predictions of its gaps: the concealment worker writes, playback reads (nil: concealment off).
    public let concealment: PreparedConcealment?
    /// When its newest frame arrived (local clock, nanoseconds; `Int64.min` before any), and
    /// how many sample frames it held: ingest writes, the concealment worker reads to tell
    /// when the next is overdue.
    public let lastArrival = Atomic<Int64>(.min), lastFrameLength = Atomic<Int>(0)
    /// Sample frames played from predictions (playback adds).
    public let concealedFrames = AtomicCounter()
    /// The longest gap that was concealed, in sample frames (playback sets).
    public let longestConcealedGap = AtomicGauge()

    /// Makes the hand-off of a stream whose frames go into `ring`, its chain published on
    /// `timeline`, its gaps predicted into `concealment`.
    public init(streamID: String?, sampleRate: SampleRate, channels: ChannelCount, ring: FrameRing,
                timeline: PublishedTimeline = PublishedTimeline(), concealment: PreparedConcealment? = nil) {
        self.streamID = streamID
        self.sampleRate = sampleRate
        self.channels = channels
        self.ring = ring
        self.timeline = timeline
        self.concealment = concealment
    }
}
