import Core

/// A `clock_echo` (jamnet/1.1): a sender's answer to a ``ClockProbe``.
///
/// With the receiver's own arrival time t4 the four times give the NTP estimates:
/// offset = ((t2 − t1) + (t3 − t4)) / 2 and round trip = (t4 − t1) − (t3 − t2).
public struct ClockEcho: Hashable, Sendable {
    /// The protocol version the message declared; the type needs `jamnet/1.1`.
    public var version: ProtocolVersion
    /// `probe_id` of the probe answered.
    public var probeID: UInt64
    /// t1, `timestamp_probe_sent`: copied from the probe (receiver's clock).
    public var probeSent: Nanoseconds
    /// t2, `timestamp_probe_received`: when the probe arrived, on the sender's CPU clock.
    public var probeReceived: Nanoseconds
    /// t3, `timestamp_echo_sent`: when the echo left, on the sender's CPU clock (≥ t2).
    public var echoSent: Nanoseconds
    /// `session_id` of the answering sender, if given.
    public var sessionID: String?
    /// `challenge` (jamnet/1.2): the probe's, returned.
    public var challenge: String?

    /// Makes an echo.
    public init(
        version: ProtocolVersion = .clockExchange, probeID: UInt64, probeSent: Nanoseconds, probeReceived: Nanoseconds,
        echoSent: Nanoseconds, sessionID: String? = nil, challenge: String? = nil
    ) {
        self.challenge = challenge
        self.version = version
        self.probeID = probeID
        self.probeSent = probeSent
        self.probeReceived = probeReceived
        self.echoSent = echoSent
        self.sessionID = sessionID
    }
}
