import Authentication
import Buffer
import Clock
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
    /// How often remote senders are sent a `clock_probe`: four a second give the two-way mapping
    /// enough exchanges with short round trips on a jittery network. A new remote session's
    /// first probe goes at once; while none plays, the table's timer wakes every four intervals.
    public var probeInterval = Nanoseconds.milliseconds(250)
    /// `--allow`: the addresses senders may use (nil: any). Anything from elsewhere is dropped
    /// unread and counted; TCP connections from elsewhere are closed at once.
    public var allowed: AddressAllowList?
    /// `--keys`: with keys, only lines signed by one of them are read (jamnet/1.2); nil: every line.
    public var keys: KeyRing?
    /// With keys, sessions from other hosts awaiting their challenge's answer at once; a new one
    /// beyond this replaces the oldest.
    public var maximumUnverifiedSessions = 8
    /// With keys, a session from another host that has not answered a challenge within this ends.
    public var challengeTimeout = Nanoseconds.seconds(5)
    /// The interface a multicast group is joined on (nil: the one the system routes the group to).
    public var multicastInterface: String?
    /// How much audio each stream's ring holds: the player's latency and a second more (the
    /// receiver sets it from the latency).
    public var ringDuration = Nanoseconds.milliseconds(1_020)
    /// `--max-buffer`: the memory all streams' rings may take together; a stream whose ring does
    /// not fit is refused and counted.
    public var maximumBufferBytes = ByteCount.mebibytes(64)
    /// The memory one stream's ring may take (at most ``maximumBufferBytes``): 16 MiB holds 3 s
    /// of 96 kHz audio in 12 channels.
    public var maximumStreamBufferBytes = ByteCount.mebibytes(16)
    /// A stream whose format changed is refused another change for this long: a sender flipping
    /// its rate or channels every line cannot make the player allocate a ring per line.
    public var formatChangeHoldoff = Nanoseconds.seconds(1)
    /// Probes that may await their echo per session; the oldest is forgotten first.
    public var outstandingProbes = 4
    /// The player's latency (the receiver sets it): a stream whose frames need more is reported;
    /// with `automaticLatencyCeiling`, ingest sets its target from what the streams need.
    public var latency: PlaybackLatency?
    /// `--latency auto`: the most the latency may be (nil: it is fixed).
    public var automaticLatencyCeiling: Nanoseconds?
    /// When playback mixes each device period (the receiver sets it; nil: no arrival is measured).
    public var deviceSchedule: PublishedDeviceSchedule?
    /// With concealment on (the receiver sets it): each stream's ring also keeps its history
    /// behind the reader, and each stream gets room for a prediction as long as its limit, both
    /// within the buffer budget (nil: concealment off).
    public var concealment: ConcealmentSettings?
    /// Called on the ingest thread when a frame arrives after a gap (the concealment worker then
    /// predicts the gap from both sides).
    public var gapRevealed: (@Sendable () -> Void)?
    /// How each stream's timeline fits its stamps (the defaults suit frames of 1–20 ms).
    public var timeline = StreamTimeline.Configuration()

    /// The defaults.
    public init() {}
}
