import Core

/// Ingest's limits and timings; the defaults are the command line's.
public struct IngestConfiguration: Sendable {
    /// The longest line accepted.
    public var maximumLineBytes = ByteCount.mebibytes(1)
    /// Open TCP connections at once.
    public var maximumConnections = 64
    /// Sessions at once.
    public var maximumSessions = 32
    /// Streams at once, over all sessions.
    public var maximumStreams = 32
    /// A session that sends nothing for this long ends and frees everything.
    public var sessionTimeout = Nanoseconds.seconds(5)
    /// A TCP connection that sends nothing for this long is closed.
    public var idleConnectionTimeout = Nanoseconds.seconds(30)
    /// How often remote senders are sent a `clock_probe`.
    public var probeInterval = Nanoseconds.seconds(1)
    /// `--allow`: the addresses senders may use (nil: any). Anything from elsewhere is dropped
    /// unread and counted; TCP connections from elsewhere are closed at once.
    public var allowed: AddressAllowList?
    /// The interface a multicast group is joined on (nil: the one the system routes the group to).
    public var multicastInterface: String?
    /// How much audio each stream's ring holds.
    public var ringDuration = Nanoseconds.seconds(2)

    /// The defaults.
    public init() {}
}
