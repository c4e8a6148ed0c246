import Buffer
import Concealment
import Core
import Ingest
import Logging
import Playback
import Realtime
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
    /// Predicts streams' gaps for playback (nil: `--conceal off`).
    public let concealment: ConcealmentWorker?

    /// Makes the receiver; nothing is opened until `start`. Playback and ingest log through
    /// `logger` with the metadata `component` set to `playback` and `ingest`.
    public init(configuration: ReceiverConfiguration, logger: Logger) {
        self.configuration = configuration
        var playbackLogger = logger, ingestLogger = logger
        playbackLogger[metadataKey: "component"] = "playback"
        ingestLogger[metadataKey: "component"] = "ingest"
        let playback = PlaybackEngine(configuration: configuration.playback, logger: playbackLogger)
        let concealment = configuration.playback.concealment.map { ConcealmentWorker(settings: $0) }
        let attachments = Attachments(playback: playback, concealment: concealment, logger: playbackLogger)
        self.playback = playback
        self.concealment = concealment
        // Each stream's ring holds what the latency keeps queued, and a second more for senders
        // that send ahead and for bursts.
        var ingestConfiguration = configuration.ingest
        ingestConfiguration.ringDuration = (configuration.playback.automaticLatencyCeiling ?? configuration.playback.latency) + .seconds(1)
        ingestConfiguration.latency = playback.latency
        ingestConfiguration.automaticLatencyCeiling = configuration.playback.automaticLatencyCeiling
        ingestConfiguration.deviceSchedule = playback.schedule
        ingestConfiguration.concealment = concealment?.settings
        if let concealment { ingestConfiguration.gapRevealed = { @Sendable in concealment.gapRevealed() } }
        ingest = IngestServer(listen: configuration.listen, tcp: configuration.tcp, udp: configuration.udp,
                              configuration: ingestConfiguration,
                              streamEvents: { [attachments] stream, started in attachments.handle(stream, started: started) },
                              sessionEvents: { [ingestLogger] event in
                                  if event.isWarning { ingestLogger.warning("\(event)") } else { ingestLogger.info("\(event)") }
                              })
        attachments.budget = ingest.budget
    }

    /// Opens the device (an error if it cannot), then listens; returns the bound ports.
    @discardableResult
    public func start() async throws -> (tcp: Int?, udp: Int?) {
        try playback.start()
        concealment?.start()
        do {
            return try await ingest.start()
        } catch {
            playback.stop()
            concealment?.stop()
            throw error
        }
    }

    /// Stops playing (after fading out over `fadeOut`, if given), then listening: the fade plays
    /// what keeps arriving meanwhile rather than running out of it.
    public func stop(fadeOut: Nanoseconds = .zero) async throws {
        playback.stop(fadeOut: fadeOut)
        try await ingest.stop()
        concealment?.stop()
    }
}

/// Which playback slot each ingest stream plays in. Thread: the ingest thread only.
private final class Attachments: @unchecked Sendable {
    private let playback: PlaybackEngine
    private let concealment: ConcealmentWorker?
    private let logger: Logger
    private var slots: [ObjectIdentifier: Int] = [:]
    /// The budget each stream's concealment memory is reserved from (ingest's, set once it exists).
    var budget: BufferBudget?

    init(playback: PlaybackEngine, concealment: ConcealmentWorker?, logger: Logger) {
        self.playback = playback
        self.concealment = concealment
        self.logger = logger
    }

    func handle(_ stream: IngestStream, started: Bool) {
        let key = ObjectIdentifier(stream)
        if started {
            guard let slot = playback.attach(stream.handoff) else {
                logger.warning("all \(playback.slots.capacity) stream slots busy; stream \(stream.streamID.map { LogText.escaped($0) } ?? "-") is not played")
                return
            }
            slots[key] = slot
            concealment?.add(stream.handoff, budget: budget)
        } else if let slot = slots.removeValue(forKey: key) {
            playback.detach(slot)
            concealment?.remove(stream.handoff, budget: budget)
        }
    }
}
