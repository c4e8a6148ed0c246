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

    init(streamID: String?, sampleRate: SampleRate, channels: ChannelCount, stampsOnGPU: Bool, firstFrameLength: Int, ringDuration: Nanoseconds) {
        self.streamID = streamID
        self.sampleRate = sampleRate
        self.channels = channels
        self.stampsOnGPU = stampsOnGPU
        timeline = StreamTimeline(nominalRate: sampleRate)
        // Slots of the first frame's length rounded up to a power of two, with room to spare
        // (frames may vary a little); enough of them for the duration.
        var slotFrames = 64
        while slotFrames < firstFrameLength + firstFrameLength / 4 && slotFrames < 16_384 { slotFrames *= 2 }
        let frames = Int(ringDuration.seconds * Double(sampleRate.hertz))
        ring = FrameRing(channels: channels, slotCount: max(16, frames / max(1, firstFrameLength)), slotFrames: slotFrames)
    }
}
