import Authentication
import Core

/// Everything `jamsend` was asked to do.
public struct SenderConfiguration: Sendable {
    /// Which GPU time a frame carries (`--stamp`).
    public enum StampMode: String, Sendable, CaseIterable {
        /// The GPU time of its first sample on the stream's sample clock (exact).
        case clock
        /// The GPU time the dispatch actually wrote, plus the planned time from rendering to the
        /// first sample: the sample clock plus the real dispatch jitter.
        case dispatch
    }

    /// Where the lines go.
    public enum Output: Sendable {
        /// To a receiver.
        case network(SenderDestination, SocketConnection.Transport)
        /// To a JSON Lines file.
        case file(path: String)
    }

    /// The signal.
    public var signal: Signal = .sine(frequency: 1000, amplitude: 0.5)
    /// Sample rate (a `file:` signal brings its own).
    public var rate: SampleRate = .standard
    /// Channels (a `file:` signal brings its own).
    public var channels: ChannelCount = ChannelCount(2)
    /// Sample frames per `jdat` message.
    public var framesPerMessage = 480
    /// How long to send; nil sends until stopped.
    public var duration: Nanoseconds?
    /// `session_id`.
    public var sessionID = "jamsend"
    /// `--key`: sign every line with this key (jamnet/1.2) and answer only probes signed by it.
    public var key: AuthenticationKey?
    /// `stream_id`.
    public var streamID = "main"
    /// How long before its first sample's time a frame is sent (negative: after it).
    public var lead: Nanoseconds = .milliseconds(5)
    /// Send each frame once its last sample's time has passed, as a live (capturing) sender
    /// must; `lead` is then not used.
    public var capture = false
    /// CLOCK_MONOTONIC time of the first sample, to line frames up with another clock; nil: a
    /// little after the start.
    public var firstSampleAt: Nanoseconds?
    /// Calibration block interval.
    public var calibrationInterval: Nanoseconds = .seconds(1)
    /// Which GPU time frames carry.
    public var stampMode: StampMode = .clock
    /// Offset, skew and width of the reported GPU clock.
    public var knobs = GPUClockKnobs()
    /// Frame timestamps move by a uniform amount in ±this (calibration blocks do not).
    public var stampJitter: Nanoseconds = .zero
    /// UDP faults.
    public var impairments = NetworkImpairments()
    /// Seed of everything random (noise, jitter, faults).
    public var seed: UInt64 = 1
    /// Send each frame on time (true) or as fast as it renders (benchmarks, files).
    public var paced = true
    /// Where the lines go.
    public var output: Output = .network(try! SenderDestination(parsing: "127.0.0.1:9000"), .tcp)

    /// Makes the defaults.
    public init() {}
}
