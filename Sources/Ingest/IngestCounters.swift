import Authentication
import Core
import Wire

/// What ingest has seen, counted with atomics.
///
/// Thread: written on the ingest event loop; read from anywhere (status, metrics, tests).
public final class IngestCounters: Sendable {
    /// One transport's traffic.
    public struct Transport: Sendable {
        /// Lines received (every class).
        public let messages = AtomicCounter()
        /// Bytes received.
        public let bytes = AtomicCounter()
    }

    /// TCP traffic.
    public let tcp = Transport()
    /// UDP traffic.
    public let udp = Transport()
    private let rejections = Dictionary(uniqueKeysWithValues: LineClass.allCases.map { ($0, AtomicCounter()) })
    /// Frames dropped because their time had passed on arrival.
    public let late = AtomicCounter()
    /// Frames dropped as duplicates.
    public let duplicates = AtomicCounter()
    /// Frames that arrived behind a later one (put back in order).
    public let reordered = AtomicCounter()
    /// GPU-stamped frames dropped because their session had no calibration yet.
    public let uncalibrated = AtomicCounter()
    /// Samples outside [−1, 1], clipped.
    public let clippedSamples = AtomicCounter()
    /// Frames dropped for want of room in their ring, or larger than its slots.
    public let overflows = AtomicCounter()
    /// Sessions now active.
    public let sessionsActive = AtomicCounter()
    /// Streams now active.
    public let streamsActive = AtomicCounter()
    /// Messages dropped because the session limit was reached.
    public let refusedSessions = AtomicCounter()
    /// Frames dropped because the stream limit was reached.
    public let refusedStreams = AtomicCounter()
    /// TCP connections refused over the connection limit.
    public let refusedConnections = AtomicCounter()

    /// TCP connections and UDP datagrams from addresses outside `--allow`, dropped unread.
    public let disallowed = AtomicCounter()
    /// `clock_echo`s that answered no probe awaiting one (unknown id, wrong time, or late), ignored.
    public let unexpectedEchoes = AtomicCounter()
    /// Streams refused because their ring did not fit in the buffer memory (`--max-buffer`).
    public let refusedBuffers = AtomicCounter()
    /// Frames dropped because their stream changed format again within the hold-off.
    public let refusedFormatChanges = AtomicCounter()

    private let authenticationFailures = Dictionary(uniqueKeysWithValues: AuthenticationFailure.allCases.map { ($0, AtomicCounter()) })

    /// Makes zeroed counters.
    public init() {}

    /// Lines dropped by authentication (with keys) for `reason`.
    public func authenticationFailed(_ reason: AuthenticationFailure) -> AtomicCounter {
        authenticationFailures[reason]!
    }

    /// Lines dropped by authentication, every reason together.
    public var unauthenticatedLines: Int { AuthenticationFailure.allCases.reduce(0) { $0 + authenticationFailures[$1]!.value } }

    /// Lines rejected, every class together.
    public var rejectedLines: Int { LineClass.allCases.reduce(0) { $0 + rejections[$1]!.value } }

    /// Lines rejected as `lineClass` (`ok` lines are not rejections: always 0).
    public func rejected(_ lineClass: LineClass) -> AtomicCounter {
        rejections[lineClass]!
    }
}
