import AllocationCounter
import Core
import Foundation
import Ingest
import Logging
import JackProbe
import Playback
import Realtime
import Receiver
import RigSupport
import Sender
import TestSupport
import Testing

/// Playback on the JACK dummy rig: what the player writes to the ALSA `jack` PCM, recorded by a
/// JACK client with JACK's own time for every frame.
@Suite(.serialized, .enabled(if: JackRig.unavailable == nil, "\(JackRig.unavailable ?? "")"))
final class PlaybackRigTests {
    static let period = 256.0 / 48_000 * 1e9  // one JACK period, ns
    /// The latency the tests play at: their senders capture (each 480-sample frame leaves 10 ms
    /// after its first sample), and the player's device path is a period, its fill and the time
    /// this unoptimized build takes to mix (milliseconds on these busy cores).
    static let latency = Nanoseconds.milliseconds(30)
    var receiver: Receiver?
    var senders: [Process] = []

    /// One probe client for the whole suite (its recording restarts with each test).
    static let probe: Void = { precondition(jack_probe_start("jamplay-test-probe", 48_000 * 90) == 0, "the JACK probe cannot open a client") }()

    init() { Self.probe }

    deinit {
        for sender in senders where sender.isRunning { sender.terminate() }
    }

    /// Starts a receiver on the `jack` device and connects the probe to what it plays.
    func startReceiver(latency: Nanoseconds = PlaybackRigTests.latency, fill: Nanoseconds = .milliseconds(5), record: String? = nil) async throws -> Int {
        var configuration = ReceiverConfiguration(listen: ListenAddress(host: "127.0.0.1", port: 0))
        configuration.playback.device.name = "jack"
        configuration.playback.latency = latency
        // By default 5 ms: this machine now and then stalls the playback thread for milliseconds.
        configuration.playback.fill = fill
        configuration.playback.recordPath = record
        // For diagnosis: JAMPLAY_TEST_TRACE_DIR collects each receiver's timing trace.
        if let directory = ProcessInfo.processInfo.environment["JAMPLAY_TEST_TRACE_DIR"] {
            configuration.playback.timingTracePath = "\(directory)/receiver-\(DispatchTime.now().uptimeNanoseconds).csv"
        }
        let receiver = Receiver(configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let ports = try await receiver.start()
        self.receiver = receiver
        #expect(await eventually(within: 5) { jack_probe_connect("out_00[01]$") == 2 })
        jack_probe_restart()
        return ports.tcp!
    }

    /// Starts a live sender: each frame leaves once its last sample's time has passed.
    func send(_ arguments: [String], port: Int) throws {
        senders.append(try JamsendRunner.start(["--clock", "cpu", "--capture", "--to", "127.0.0.1:\(port)"] + arguments))
    }

    func waitForSenders() {
        for sender in senders { sender.waitUntilExit() }
    }

    /// Whether the JACK server itself had an xrun during `recording` (this VM stalled): what the
    /// probe heard then says nothing of the player, so the run is inconclusive and is repeated.
    func rigDisturbed(_ recording: JackRig.Recording, _ test: String, attempt: Int) -> Bool {
        guard !recording.rigXrunFrames.isEmpty else { return false }
        print("\(test): run \(attempt) inconclusive: JACK server xruns at frames \(recording.rigXrunFrames)")
        return true
    }

    /// How many times a scenario disturbed by the rig runs before the test fails.
    static let attempts = 3

    @Test func aToneOnTheRigPlaysWithoutUnderrunsAndClean() async throws {
        for attempt in 1...Self.attempts {
            let port = try await startReceiver()
            try send(["--signal", "sine:1000:0.5", "--duration", "4s"], port: port)
            waitForSenders()
            let recording = JackRig.record()
            let counters = receiver!.playbackCounters
            try await receiver!.stop()
            if rigDisturbed(recording, "aToneOnTheRig…", attempt: attempt) { continue }
            #expect(counters.xruns.value == 0)
            // The steady part of the tone: a 1 kHz sine at 0.5, clean to −60 dB (the loop's own trims included).
            let onset = try #require(recording.onsets(threshold: 0.1).first)
            let steady = recording.left[(onset + 24_000)..<(onset + 120_000)]
            let rms = (steady.map { Double($0) * Double($0) }.reduce(0, +) / Double(steady.count)).squareRoot()
            #expect(abs(rms - 0.5 / 2.0.squareRoot()) < 0.005)
            // No discontinuity: a 1 kHz sine at 0.5 moves at most 0.065 between samples.
            #expect(steady.indices.dropFirst().allSatisfy { abs(steady[$0] - steady[$0 - 1]) < 0.07 })
            #expect(counters.silentFrames.value == 0)
            #expect(recording.left == recording.right)
            return
        }
        Issue.record("\(Self.attempts) runs in a row had the JACK server itself stall")
    }
}

extension PlaybackRigTests {
    @Test func anUnderrunIsRecoveredCountedAndTimingComesBack() async throws {
        // Spans after an xrun of the JACK server itself are left out (the rig's slip, not the
        // player's). On a busy VM several can leave too few impulses to judge: such a recording is
        // inconclusive, and the scenario runs again (at most three times). Every run's impulses
        // must be on time and every run must count its underrun.
        for attempt in 1...Self.attempts {
            let port = try await startReceiver()
            try send(["--signal", "impulse:100ms", "--duration", "10s"], port: port)
            try await Task.sleep(nanoseconds: 1_500_000_000)
            receiver!.playback.stallOnce(for: .milliseconds(60))
            waitForSenders()
            let recording = JackRig.record()
            #expect(receiver!.playbackCounters.xruns.value >= 1)
            // Each underrun raised the fill a step.
            #expect(receiver!.playbackCounters.fill.value >= 5_500_000)
            try await receiver!.stop()
            // A second after the stall, impulses are on time again.
            let onsets = recording.onsets().filter { $0 > 48_000 * 3 && !recording.isDisturbed(at: $0) }
            let worst = onsets.map { abs(JackRig.gridError(recording.pulseTime(near: $0) - Double(Self.latency.rawValue), period: 100e6)) }.max() ?? 0
            #expect(worst <= Self.period, "after the underrun, impulses are \(worst / 1000) µs off")
            if onsets.count >= 10 { return }
            print("anUnderrunIsRecovered…: run \(attempt) inconclusive: \(onsets.count) undisturbed impulses (JACK server xruns at frames \(recording.rigXrunFrames))")
        }
        Issue.record("\(Self.attempts) runs in a row had fewer than 10 impulses clear of JACK server xruns")
    }
}

extension PlaybackRigTests {
    /// The device holds only the fill, not its buffer: frames sent 1 ms before their time are all
    /// heard at a latency under the buffer's three periods (16 ms), let alone a buffer and a period.
    @Test func framesSentJustBeforeTheirTimeAreHeardAtALatencyUnderTheDeviceBuffer() async throws {
        for attempt in 1...Self.attempts {
            let latency = Nanoseconds.milliseconds(14)
            let port = try await startReceiver(latency: latency, fill: .milliseconds(2))
            senders.append(try JamsendRunner.start(["--clock", "cpu", "--lead", "1ms", "--to", "127.0.0.1:\(port)",
                                                    "--signal", "impulse:100ms", "--duration", "4s"]))
            waitForSenders()
            let recording = JackRig.record()
            let (playback, ingest) = (receiver!.playbackCounters, receiver!.ingestCounters)
            let path = receiver!.playback.devicePath
            try await receiver!.stop()
            if rigDisturbed(recording, "framesSentJustBefore…", attempt: attempt) { continue }
            // An underrun here is this machine stalling the playback thread for longer than the
            // fill (it happens, for milliseconds, on these shared cores): inconclusive. A path
            // too long would show as late frames without one.
            if playback.xruns.value > 0 && attempt < Self.attempts {
                print("framesSentJustBefore…: run \(attempt) inconclusive: \(playback.xruns.value) underruns")
                continue
            }
            #expect(path < latency, "device path \(path)")
            #expect(playback.xruns.value == 0 && playback.silentFrames.value == 0 && ingest.late.value == 0,
                    "\(playback.xruns.value) underruns, \(playback.silentFrames.value) silent frames, \(ingest.late.value) late frames")
            let onsets = recording.onsets()
            #expect(onsets.count >= 35)
            let worst = onsets.map { abs(JackRig.gridError(recording.pulseTime(near: $0) - Double(latency.rawValue), period: 100e6)) }.max() ?? .infinity
            #expect(worst <= Self.period, "impulses up to \(worst / 1000) µs off")
            return
        }
        Issue.record("\(Self.attempts) runs in a row had the JACK server itself stall")
    }

    @Test func a44100HertzStreamIsResampledToTheDevicesRateAndKeepsItsTiming() async throws {
        for attempt in 1...Self.attempts {
            let port = try await startReceiver()
            try send(["--signal", "impulse:100ms", "--rate", "44100", "--duration", "4s"], port: port)
            waitForSenders()
            let recording = JackRig.record()
            try await receiver!.stop()
            if rigDisturbed(recording, "a44100HertzStream…", attempt: attempt) { continue }
            let onsets = recording.onsets(threshold: 0.3)
            #expect(onsets.count >= 30)
            let worst = onsets.map { abs(JackRig.gridError(recording.pulseTime(near: $0) - Double(Self.latency.rawValue), period: 100e6)) }.max() ?? .infinity
            #expect(worst <= Self.period, "44.1 kHz impulses up to \(worst / 1000) µs off")
            return
        }
        Issue.record("\(Self.attempts) runs in a row had the JACK server itself stall")
    }
}

extension PlaybackRigTests {
    @Test func theRecordingHoldsExactlyWhatWasPlayed() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jamplay-record-\(UUID().uuidString).wav").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let port = try await startReceiver(record: path)
        try send(["--signal", "chirp:200:8000:1", "--duration", "2s"], port: port)
        waitForSenders()
        try await Task.sleep(nanoseconds: 200_000_000)
        let played = JackRig.record()
        try await receiver!.stop()
        let file = try WAVFile(path: path)
        #expect(file.sampleRate.hertz == 48_000 && file.channels.rawValue == 2)
        let recorded = stride(from: 0, to: file.samples.count, by: 2).map { file.samples[$0] }
        // Line the two up on the chirp's first sound, then they are the same floats.
        let playedStart = try #require(played.left.firstIndex { abs($0) > 0.05 })
        let recordedStart = try #require(recorded.firstIndex { abs($0) > 0.05 })
        let length = min(played.left.count - playedStart, recorded.count - recordedStart, 48_000)
        #expect(length > 40_000)
        #expect(Array(played.left[playedStart..<(playedStart + length)]) == Array(recorded[recordedStart..<(recordedStart + length)]))
        #expect(receiver!.playback.recorder?.droppedFrames.value == 0)
    }
}

extension PlaybackRigTests {
    /// What the playback loop asks of the device each period — its status, the wake threshold,
    /// the write and the wait for the device to take frames — allocates nothing (the render path
    /// is `RenderPathAllocationTests`).
    @Test(.enabled(if: allocation_counter_available() == 1, "sanitizer build: the allocation counter cannot interpose malloc"))
    func theLoopsDeviceCallsAllocateNothing() throws {
        var request = AlsaPCM.Request()
        request.name = "jack"
        let pcm = try AlsaPCM(request)
        let period = pcm.negotiated.periodFrames
        let silence = [UInt8](repeating: 0, count: period * pcm.negotiated.channels.rawValue * pcm.negotiated.format.bytesPerSample)
        var periods = 0
        func playPeriod() {
            if let status = pcm.readStatus() { _ = pcm.setWakeThreshold(status.availableFrames - period + 1) }
            let written = silence.withUnsafeBytes { pcm.write($0.baseAddress!, frames: period) }
            let woke = written < 0 ? written : pcm.waitForRoom(timeoutMilliseconds: 1_000)
            if woke < 0 { _ = pcm.recover(woke) } else { periods += 1 }
        }
        for _ in 0..<20 { playPeriod() }
        periods = 0
        allocation_counter_start()
        for _ in 0..<200 { playPeriod() }
        let allocations = allocation_counter_stop()
        #expect(allocations == 0)
        #expect(periods >= 190)
    }
}

extension PlaybackRigTests {
    /// An idle player keeps the device running and its timeline locked, waking once a period: a
    /// paced device's silence is written as soon as the device takes a period (playing, a period
    /// is written as late as the fill allows, a second wake).
    @Test func anIdlePlayerWakesOnceAPeriod() async throws {
        // A fill well under a period: playing, the write would come a wake after the device's.
        _ = try await startReceiver(fill: .milliseconds(1))
        // Past the timeline's first seconds, when the loop also reads the pointer between writes.
        try await Task.sleep(nanoseconds: 3_000_000_000)
        let periods = receiver!.playbackCounters.periods.value
        let wakes = Self.playbackThreadWakes()
        try await Task.sleep(nanoseconds: 2_000_000_000)
        let periodsPlayed = receiver!.playbackCounters.periods.value - periods
        let woke = try #require(Self.playbackThreadWakes()) - (try #require(wakes))
        try await receiver!.stop()
        // 375 periods in 2 s; two wakes a period would be 750.
        #expect(periodsPlayed > 300)
        #expect(Double(woke) <= Double(periodsPlayed) * 1.25, "\(woke) wakes in \(periodsPlayed) periods")
    }

    /// The playback thread's voluntary context switches so far (each a wake after a wait).
    static func playbackThreadWakes() -> Int? {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        for task in tasks {
            guard let name = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8),
                  name.trimmingCharacters(in: .whitespacesAndNewlines) == "playback",
                  let status = try? String(contentsOfFile: "/proc/self/task/\(task)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("voluntary_ctxt_switches:") })
            else { continue }
            return Int(line.split(separator: "\t").last?.trimmingCharacters(in: .whitespaces) ?? "")
        }
        return nil
    }
}
