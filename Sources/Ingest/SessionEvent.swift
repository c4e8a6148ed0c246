import Authentication
import Clock
import Core
import Wire

/// What a person reading the log wants to know of the senders: one event per session change,
/// and bad input (rate-limited by the table: the first of each class from each address, and a
/// few of each class a minute whatever the address). Text from the network is escaped.
public enum SessionEvent: Sendable, CustomStringConvertible {
    /// A sender's session began (its first message).
    case started(source: SourceKey, sessionID: String?)
    /// A session's clock calibration changed mode (`offset-only` on its first block, `drift` once fitted).
    case calibrated(source: SourceKey, sessionID: String?, mode: SessionCalibration.Mode)
    /// A calibration block far from the fit's prediction (a GPU reset, a restarted sender): re-locked on it.
    case relocked(source: SourceKey, sessionID: String?)
    /// A new `session_id` from a source: the previous session plays out and ends.
    case restarted(source: SourceKey, previous: String?, sessionID: String?)
    /// A session ended: silent for the session timeout.
    case ended(source: SourceKey, sessionID: String?)
    /// A session or stream was refused: the limit of sessions or streams is reached.
    case refused(source: SourceKey, what: String)
    /// A connection or datagram from an address outside `--allow` was dropped unread (told once per address).
    case disallowed(source: SourceKey)
    /// A line was rejected; later ones of the class from the address are counted, not told.
    case rejected(source: SourceKey, rejection: LineRejection)
    /// A line dropped by authentication (with keys); told at most a few times a minute per reason.
    case unauthenticated(source: SourceKey, reason: AuthenticationFailure)
    /// A `clock_echo` that answers no probe awaiting one (forged, replayed or too late): ignored.
    case unexpectedEcho(source: SourceKey, sessionID: String?)
    /// A stream's ring does not fit in `--max-buffer` (or one ring's share of it): refused.
    case outOfBufferMemory(source: SourceKey, streamID: String?)
    /// Reports of a class withheld by the rate limit since the last one told.
    case suppressed(count: Int, what: String)
    /// A stream's frames arrive too late for the player's latency (or, with `--latency auto`, its
    /// ceiling): it would need `needed`.
    case latencyShort(source: SourceKey, streamID: String?, needed: Nanoseconds, latency: Nanoseconds)

    public var description: String {
        func name(_ id: String?) -> String { id.map { "session \"\(LogText.escaped($0))\"" } ?? "session (no id)" }
        switch self {
        case .started(let source, let id): return "\(name(id)) from \(source) started"
        case .calibrated(let source, let id, let mode): return "\(name(id)) from \(source) calibrated: \(mode.rawValue)"
        case .relocked(let source, let id): return "\(name(id)) from \(source): its GPU clock jumped; calibration re-locked"
        case .restarted(let source, let previous, let id): return "\(source) restarted: \(name(id)) replaces \(name(previous))"
        case .ended(let source, let id): return "\(name(id)) from \(source) ended (no message for the session timeout)"
        case .refused(let source, let what): return "\(source): \(what) refused: the limit is reached"
        case .disallowed(let source):
            return "\(source): dropped: \(source.address) is not in --allow (more from it are counted, not logged)"
        case .rejected(let source, let rejection):
            return "\(source): line rejected: \(rejection.lineClass): \(rejection) (more of this class from \(source.address) are counted, not logged)"
        case .unauthenticated(let source, let reason):
            return "\(source): line dropped: \(reason.rawValue): \(reason) (all are counted; at most \(SessionTable.reportsPerMinute) a minute of each reason are logged)"
        case .unexpectedEcho(let source, let id):
            return "\(source): clock_echo for \(name(id)) answers no probe awaiting one; ignored (more from \(source.address) are counted, not logged)"
        case .outOfBufferMemory(let source, let stream):
            return "\(source): stream \(stream.map { "\"\(LogText.escaped($0))\"" } ?? "(no id)") refused: its buffer does not fit in --max-buffer"
        case .suppressed(let count, let what):
            return "\(count) more reports of \(what) were withheld in the last minute (all are counted)"
        case .latencyShort(let source, let stream, let needed, let latency):
            return "\(source): stream \(stream.map { "\"\(LogText.escaped($0))\"" } ?? "(no id)") needs a latency of \(needed) "
                + "for 99 % of its frames to be played whole; the latency is at most \(latency): its late frames are skipped"
        }
    }

    /// Whether this is a warning rather than news.
    public var isWarning: Bool {
        switch self {
        case .refused, .rejected, .relocked, .disallowed, .unauthenticated, .unexpectedEcho, .outOfBufferMemory, .suppressed, .latencyShort: true
        default: false
        }
    }
}
