import Buffer
import Core
import Ingest
import Playback
import Synchronization

/// The player: network ingest feeding playback. Every stream ingest starts is attached to the
/// device's mix at once; it is detached when its session ends.
///
/// Thread: `start` and `stop` from one task; stream events arrive on the ingest thread.
public final class Receiver: Sendable {
    /// The configuration it runs with.
    public let configuration: ReceiverConfiguration
    /// Ingest's counters.
    public var ingestCounters: IngestCounters { ingest.counters }
    /// Playback's counters.
    public var playbackCounters: PlaybackCounters { playback.counters }
    /// The listening sockets.
    public let ingest: IngestServer
    /// The device's player.
    public let playback: PlaybackEngine

    /// Makes the receiver; nothing is opened until `start`.
    public init(configuration: ReceiverConfiguration, log: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        let playback = PlaybackEngine(configuration: configuration.playback, log: log)
        let attachments = Attachments(playback: playback, log: log)
        self.playback = playback
        ingest = IngestServer(listen: configuration.listen, tcp: configuration.tcp, udp: configuration.udp,
                              configuration: configuration.ingest, streamEvents: { stream, started in
                                  attachments.handle(stream, started: started)
                              })
    }

    /// Opens the device (an error if it cannot), then listens; returns the bound ports.
    @discardableResult
    public func start() async throws -> (tcp: Int?, udp: Int?) {
        try playback.start()
        do {
            return try await ingest.start()
        } catch {
            playback.stop()
            throw error
        }
    }

    /// Stops listening, then playing.
    public func stop() async throws {
        try await ingest.stop()
        playback.stop()
    }
}

/// Which playback slot each ingest stream plays in. Thread: the ingest thread only.
private final class Attachments: @unchecked Sendable {
    private let playback: PlaybackEngine
    private let log: @Sendable (String) -> Void
    private var slots: [ObjectIdentifier: Int] = [:]

    init(playback: PlaybackEngine, log: @escaping @Sendable (String) -> Void) {
        self.playback = playback
        self.log = log
    }

    func handle(_ stream: IngestStream, started: Bool) {
        let key = ObjectIdentifier(stream)
        if started {
            guard let slot = playback.attach(ring: stream.ring, timeline: stream.published) else {
                log("playback: all \(playback.slots.capacity) stream slots busy; stream \(stream.streamID ?? "-") is not played")
                return
            }
            slots[key] = slot
        } else if let slot = slots.removeValue(forKey: key) {
            playback.detach(slot)
        }
    }
}
