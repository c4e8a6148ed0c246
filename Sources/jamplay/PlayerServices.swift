import Authentication
import Core
import Ingest
import Logging
import Operations
import Receiver
import ServiceLifecycle
import Synchronization
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// The player under swift-service-lifecycle: runs until SIGTERM or SIGINT (``StopSignals``), then
/// fades out, closes the device and logs its counters.
struct PlayerService: Service {
    let receiver: Receiver
    let operations: OperationsServer?
    let logger: Logger
    /// How long the sound fades out when the player is stopped.
    static let fadeOut = Nanoseconds.milliseconds(50)

    func run() async throws {
        // Until a stop signal (`StopSignals`) shuts the group down.
        try? await gracefulShutdown()
        await operations?.stop()
        try await receiver.stop(fadeOut: Self.fadeOut)
        let playback = receiver.playbackCounters, ingest = receiver.ingestCounters
        logger.notice("""
            stopped: \(playback.periods.value) periods played, \(playback.xruns.value) underruns, \(playback.silentFrames.value) silent frames, \
            \(playback.concealedFrames.value) concealed frames, \(playback.streamReanchors.value) re-anchors, \(playback.deviceSlips.value) device slips, \(ingest.late.value) late frames, \
            \(ingest.uncalibrated.value) uncalibrated frames, \(ingest.rejectedLines) rejected lines, \(ingest.unauthenticatedLines) unauthenticated lines
            """)
    }
}

/// The stats line every `interval` (nil: never) and on SIGUSR1, until the player stops.
final class StatsService: Service, Sendable {
    let reporter: Mutex<StatsReporter>
    let interval: Nanoseconds?

    init(reporter: StatsReporter, interval: Nanoseconds?) {
        self.reporter = Mutex(reporter)
        self.interval = interval
    }

    func run() async throws {
        let clock = SystemMonotonicClock()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigusr1).cancelOnGracefulShutdown() {
                    self.reporter.withLock { $0.report(now: clock.now()) }
                }
            }
            if let interval {
                group.addTask {
                    try? await cancelWhenGracefulShutdown {
                        while !Task.isCancelled {
                            try await Task.sleep(nanoseconds: UInt64(interval.rawValue))
                            self.reporter.withLock { $0.report(now: clock.now()) }
                        }
                    }
                }
            }
        }
    }
}

/// `--keys` reloaded on SIGHUP: the new keys apply to the next line; a file that fails its
/// checks leaves the keys as they were, and says why.
struct KeyReloadService: Service {
    let path: String
    let ingest: IngestServer
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                let keys = KeyRing(try KeyFile.load(path))
                try await ingest.replaceKeys(keys)
                logger.notice("keys reloaded from \(path): \(keys.ids.joined(separator: ", "))")
            } catch {
                logger.error("keys not reloaded, the previous ones stay: \(error)")
            }
        }
    }
}
