import Clock
import Core

/// One sender session: (source, `session_id`), its clocks and streams.
///
/// Thread: the ingest event loop.
public final class IngestSession {
    /// Where its lines come from.
    public let source: SourceKey
    /// `session_id`, nil when the sender names none.
    public let sessionID: String?
    /// GPU → sender CPU.
    public internal(set) var calibration = SessionCalibration()
    /// Sender CPU → local.
    public internal(set) var host: HostClockMapping
    /// Its streams by `stream_id`.
    public internal(set) var streams: [String?: IngestStream] = [:]
    /// When it last sent anything (local clock).
    public internal(set) var lastActivity: Nanoseconds
    /// A newer session from the same source replaced it: it plays out and ends.
    public internal(set) var isEnding = false
    /// The probes sent to it that await their echo (oldest first): an echo counts only if it
    /// returns one of these ids with its very send time.
    var outstandingProbes: [(id: UInt64, sent: Nanoseconds)] = []

    init(source: SourceKey, sessionID: String?, sameHost: Bool, now: Nanoseconds) {
        self.source = source
        self.sessionID = sessionID
        host = HostClockMapping(sameHost: sameHost)
        lastActivity = now
    }
}
