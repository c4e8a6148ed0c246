import Core
import Logging
import Receiver

/// The stats line: every `--stats-interval` and on SIGUSR1, what the player did since the last
/// one — sessions, streams, traffic, and every kind of trouble. A warning when there was trouble.
/// The real-time thread only counts; this reads the counters on a normal thread.
struct StatsReporter {
    private let receiver: Receiver
    private let logger: Logger
    private var last: [Int]
    private var lastTime: Nanoseconds

    init(receiver: Receiver, logger: Logger, now: Nanoseconds) {
        self.receiver = receiver
        self.logger = logger
        last = Self.readings(receiver)
        lastTime = now
    }

    private static func readings(_ receiver: Receiver) -> [Int] {
        let playback = receiver.playbackCounters, ingest = receiver.ingestCounters
        return [ingest.tcp.messages.value + ingest.udp.messages.value, ingest.tcp.bytes.value + ingest.udp.bytes.value,
                playback.xruns.value, playback.silentFrames.value, ingest.late.value, ingest.uncalibrated.value, ingest.rejectedLines,
                playback.streamReanchors.value, playback.deviceSlips.value, playback.clippedSamples.value, ingest.disallowed.value,
                playback.fill.value, ingest.unauthenticatedLines, playback.concealedFrames.value]
    }

    /// Logs the line for the time since the last one.
    mutating func report(now: Nanoseconds) {
        let readings = Self.readings(receiver)
        let change = zip(readings, last).map { $0 - $1 }
        let seconds = max((now - lastTime).seconds, 1e-3)
        (last, lastTime) = (readings, now)
        let playback = receiver.playbackCounters, ingest = receiver.ingestCounters
        let line: Logger.Message = """
            stats: \(ingest.sessionsActive.value) sessions, \(playback.streamsPlaying.value) streams playing; last \(Int(seconds.rounded())) s: \
            \(change[0]) messages (\(change[1] / 1_000) kB), \(change[2]) underruns, \(change[3]) silent frames, \(change[13]) concealed frames\
            \(change[13] > 0 ? " (longest gap so far \(Nanoseconds(Int64(playback.longestConcealedGap.value))))" : ""), \(change[4]) late frames, \
            \(change[5]) uncalibrated frames, \(change[6]) rejected lines, \(change[7]) re-anchors, \(change[8]) device slips, \
            \(change[9]) clipped samples, \(change[10]) dropped from outside --allow, \(change[12]) dropped unauthenticated; presentation error \(playback.presentationError.value / 1_000) µs\
            \(change[11] > 0 ? "; after underruns the device fill rose to \(Nanoseconds(Int64(readings[11]))) (device path \(receiver.playback.devicePath))" : "")
            """
        if change[2...].contains(where: { $0 > 0 }) { logger.warning(line) } else { logger.info(line) }
    }
}
