import Core

/// Everything a `jdat` frame says besides its samples.
public struct AudioFrameHeader: Hashable, Sendable {
    /// When the payload's first sample frame is due, on the clock the sender names.
    public enum Timestamp: Hashable, Sendable {
        /// `timestamp_gpu`: the sender's GPU clock, converted through its calibration blocks.
        case gpu(Int64)
        /// `timestamp_cpu`: the sender is already on its CPU clock.
        case cpu(Int64)
    }

    /// The protocol version the message declared (or `jamnet/1.0`).
    public var version: ProtocolVersion
    /// The first sample frame's time.
    public var timestamp: Timestamp
    /// `session_id`, if given.
    public var sessionID: String?
    /// `stream_id`, if given.
    public var streamID: String?
    /// `seq`, if given.
    public var sequence: UInt64?
    /// `sample_rate` (default 48 kHz).
    public var sampleRate: SampleRate
    /// `channels` (default mono); the payload interleaves this many.
    public var channelCount: ChannelCount

    /// Makes a header; defaults are the protocol's.
    public init(
        version: ProtocolVersion = .current, timestamp: Timestamp, sessionID: String? = nil, streamID: String? = nil,
        sequence: UInt64? = nil, sampleRate: SampleRate = .standard, channelCount: ChannelCount = .mono
    ) {
        self.version = version
        self.timestamp = timestamp
        self.sessionID = sessionID
        self.streamID = streamID
        self.sequence = sequence
        self.sampleRate = sampleRate
        self.channelCount = channelCount
    }
}
