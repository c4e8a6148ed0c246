import Core

/// A `clock_probe` (jamnet/1.1): the receiver asks a remote sender for its clock.
///
/// The sender answers with a ``ClockEcho`` that carries `probeSent` back with its own receive and
/// send times, from which the receiver computes the offset between the two CPU clocks.
public struct ClockProbe: Hashable, Sendable {
    /// The protocol version the message declared; the type needs `jamnet/1.1`.
    public var version: ProtocolVersion
    /// `probe_id`: matches the echo to its probe.
    public var probeID: UInt64
    /// `timestamp_probe_sent`: when the receiver sent it, on the receiver's `CLOCK_MONOTONIC`.
    public var probeSent: Nanoseconds
    /// `session_id`: the session whose clock is asked for, if given.
    public var sessionID: String?
    /// `challenge` (jamnet/1.2): 32 lowercase hex digits, random, that the echo must return; a
    /// receiver with keys plays a new remote session only once it has.
    public var challenge: String?

    /// Makes a probe.
    public init(version: ProtocolVersion = .clockExchange, probeID: UInt64, probeSent: Nanoseconds, sessionID: String? = nil, challenge: String? = nil) {
        self.version = version
        self.probeID = probeID
        self.probeSent = probeSent
        self.sessionID = sessionID
        self.challenge = challenge
    }
}
