import Core
import Foundation
import Logging
import Playback
import Synchronization
import Testing

/// ALSA `null` discards at once: the engine must see that and pace itself.
@Suite struct NullDeviceTests {
    @Test func theNullDevicePlaysAtRealTimePace() throws {
        var configuration = PlaybackConfiguration()
        configuration.device.name = "null"
        configuration.realtimePriority = 0
        configuration.lockMemory = false  // this test process runs many other suites
        let lines = CollectedLines()
        let engine = PlaybackEngine(configuration: configuration, logger: Logger(label: "test") { _ in CollectingLogHandler(lines: lines) })
        try engine.start()
        #expect(engine.devicePaces == false)
        #expect(lines.text.withLock { $0.contains { $0.contains("paces itself") } })
        let clock = SystemMonotonicClock()
        let start = clock.now(), periodsAtStart = engine.counters.periods.value
        Thread.sleep(forTimeInterval: 2)
        let played = Double(engine.counters.periods.value - periodsAtStart) * 256 / 48_000
        let elapsed = (clock.now() - start).seconds
        engine.stop()
        // Real time, to within a buffer (16 ms) and the noise of a shared machine.
        #expect(abs(played - elapsed) < 0.1, "played \(played) s of audio in \(elapsed) s")
    }

    /// A card underruns when its writer stalls for longer than its buffer; the null device, which
    /// never does, is made to: the loop then plays on from now, not a stall behind real time.
    @Test func aStallLongerThanTheBufferIsAnUnderrunAndPlayingGoesOnFromNow() throws {
        var configuration = PlaybackConfiguration()
        configuration.device.name = "null"
        configuration.realtimePriority = 0
        configuration.lockMemory = false
        let engine = PlaybackEngine(configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        try engine.start()
        defer { engine.stop() }
        Thread.sleep(forTimeInterval: 0.5)
        let before = engine.counters.xruns.value
        engine.stallOnce(for: .milliseconds(300))
        Thread.sleep(forTimeInterval: 0.6)
        #expect(engine.counters.xruns.value >= before + 1)
        // Back on real time: from here it plays one second's worth a second, no backlog caught up.
        let clock = SystemMonotonicClock()
        let start = clock.now(), periodsAtStart = engine.counters.periods.value
        Thread.sleep(forTimeInterval: 1)
        let played = Double(engine.counters.periods.value - periodsAtStart) * 256 / 48_000
        let elapsed = (clock.now() - start).seconds
        #expect(abs(played - elapsed) < 0.1, "played \(played) s of audio in \(elapsed) s")
    }

    @Test func aMissingDeviceIsAnErrorThatNamesIt() {
        var configuration = PlaybackConfiguration()
        configuration.device.name = "no-such-device"
        let engine = PlaybackEngine(configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        #expect {
            try engine.start()
        } throws: { error in
            "\(error)".contains("no-such-device")
        }
    }
}

/// The messages a logger was given.
final class CollectedLines: Sendable {
    let text = Mutex<[String]>([])
}

/// A log handler that keeps every message (for tests that check what was said).
struct CollectingLogHandler: LogHandler {
    let lines: CollectedLines
    var logLevel = Logger.Level.trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lines.text.withLock { $0.append("\(event.message)") }
    }
}
