import Authentication
import Clock
import Core

/// One sender session: (source, `session_id`) — with keys, (`key_id`, `session_id`) — its
/// clocks and streams.
///
/// Thread: the ingest event loop.
public final class IngestSession {
    /// Where its lines come from (with keys: its latest line).
    public internal(set) var source: SourceKey
    /// `session_id`, nil when the sender names none.
    public let sessionID: String?
    /// When its first line came (local clock).
    public let startedAt: Nanoseconds
    /// Whether it may play: always without keys and from this host; with keys, a session from
    /// another host once it has answered a probe's challenge.
    public internal(set) var isVerified: Bool
    /// The `auth_counter`s it has used (with keys).
    var replayWindow = ReplayWindow()
    /// Signs the probes sent to it (with keys).
    let signer: LineSigner?
    /// The key that signs its lines (and its probes); nil without keys.
    public var keyID: String? { signer?.key.id }
    /// GPU → sender CPU.
    public internal(set) var calibration = SessionCalibration()
    /// Sender CPU → local.
    public internal(set) var host: HostClockMapping
    /// Its streams by `stream_id`.
    public internal(set) var streams: [String?: IngestStream] = [:]
    /// Whether it has sent a calibration block: then only blocks (stamped as they were sent), not
    /// frames (stamped with their audio's time), feed the one-way clock estimate.
    var sendsCalibration = false
    /// When it last sent anything (local clock).
    public internal(set) var lastActivity: Nanoseconds
    /// A newer session from the same source replaced it: it plays out and ends.
    public internal(set) var isEnding = false
    /// The probes sent to it that await their echo (oldest first): an echo counts only if it
    /// returns one of these ids with its very send time.
    var outstandingProbes: [(id: UInt64, sent: Nanoseconds, challenge: String?)] = []

    init(source: SourceKey, sessionID: String?, sameHost: Bool, now: Nanoseconds, signer: LineSigner? = nil, verified: Bool = true) {
        self.source = source
        self.sessionID = sessionID
        self.signer = signer
        isVerified = verified
        startedAt = now
        host = HostClockMapping(sameHost: sameHost)
        lastActivity = now
    }
}
