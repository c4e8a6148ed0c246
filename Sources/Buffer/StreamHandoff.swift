import Core

/// One stream as ingest hands it to playback: what it is, its jitter buffer and its clock chain.
///
/// Ingest makes it when a stream's first frame arrives and keeps producing into it (the ring's
/// writes, the timeline's publishes); the receiver attaches it to a playback slot, which keeps it
/// alive while the real-time thread reads it. Shared per-stream state that both sides read goes
/// here. Thread: made on the ingest thread; ``ring`` and ``timeline`` follow their own contracts
/// (one producer on ingest, one consumer on playback (RT): lock-free, non-allocating); the rest
/// is immutable.
public final class StreamHandoff: Sendable {
    /// `stream_id`, nil when the frames name none.
    public let streamID: String?
    /// The stream's sample rate, fixed by its first frame.
    public let sampleRate: SampleRate
    /// Its interleaved channels, fixed by its first frame.
    public let channels: ChannelCount
    /// The jitter buffer: ingest writes, playback reads.
    public let ring: FrameRing
    /// The whole clock chain, linearized at the latest frame: what playback reads to find the
    /// samples due at a local time.
    public let timeline: PublishedTimeline

    /// Makes the hand-off of a stream whose frames go into `ring`, its chain published on `timeline`.
    public init(streamID: String?, sampleRate: SampleRate, channels: ChannelCount, ring: FrameRing,
                timeline: PublishedTimeline = PublishedTimeline()) {
        self.streamID = streamID
        self.sampleRate = sampleRate
        self.channels = channels
        self.ring = ring
        self.timeline = timeline
    }
}
