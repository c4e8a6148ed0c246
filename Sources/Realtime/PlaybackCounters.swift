import Core

/// What playback has done, as atomics the real-time thread adds to and any thread reads.
///
/// Thread: any. Lock-free, non-allocating.
public final class PlaybackCounters: Sendable {
    /// Periods written to the device.
    public let periods = AtomicCounter()
    /// Underruns (xruns) recovered.
    public let xruns = AtomicCounter()
    /// Times the device was (re)opened after the first.
    public let reopenings = AtomicCounter()
    /// Stream frames played as silence because they were missing (lost, or arrived too late),
    /// counted once the stream goes on after them (a stream's end is not a gap).
    public let silentFrames = AtomicCounter()
    /// Stream frames played from predictions where the stream's own were missing (concealed).
    public let concealedFrames = AtomicCounter()
    /// The longest gap of any stream that was concealed, nanoseconds.
    public let longestConcealedGap = AtomicGauge()
    /// Times the device's timing slipped and its timeline re-anchored (JACK skipping a cycle,
    /// a device that lost samples without reporting an underrun).
    public let deviceSlips = AtomicCounter()
    /// Times a stream's position was re-anchored (its error grew past the lock's reach).
    public let streamReanchors = AtomicCounter()
    /// Mixed samples clipped to ±1.
    public let clippedSamples = AtomicCounter()
    /// Stream samples dropped because the stream has more channels than the device.
    public let droppedChannelSamples = AtomicCounter()
    /// How long before the device takes a period the loop writes it now, nanoseconds (`DeviceFill`).
    public let fill = AtomicGauge()
    /// How long mixing and writing a period takes (its recent peak), nanoseconds: the loop starts
    /// that long before the fill.
    public let renderTime = AtomicGauge()
    /// Streams playing now.
    public let streamsPlaying = AtomicCounter()
    /// How far the heard position of the playing streams was from their timelines in the last
    /// period, the largest of them, nanoseconds (the drift lock's error; 0 with no stream).
    public let presentationError = AtomicGauge()

    /// Makes counters at zero.
    public init() {}
}
