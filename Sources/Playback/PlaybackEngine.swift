import Buffer
import Core
import Foundation
import Logging
import Realtime
import Synchronization

/// Plays every attached stream on one ALSA device: opens it, runs the real-time loop, and when the
/// device fails closes it and tries again every second (ingest keeps running meanwhile).
///
/// `start` opens the device once, so a missing device is an error to the caller, never a silent
/// fallback. Thread: `start`, `stop`, `attach` and `detach` from one control thread; the loop runs
/// on its own real-time thread; a supervisor thread reopens the device and logs.
public final class PlaybackEngine: @unchecked Sendable {
    /// The configuration asked for.
    public let configuration: PlaybackConfiguration
    /// What playback has done.
    public let counters = PlaybackCounters()
    /// The streams being played.
    public let slots: StreamSlots
    /// When the loop mixes each device period (published by the loop, for ingest).
    public let schedule = PublishedDeviceSchedule()
    /// The latency: its target (the configuration's, or what `--latency auto` chooses) and the
    /// one in force.
    public let latency: PlaybackLatency
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let current = Mutex<PlaybackLoop?>(nil)
    private let opened = Mutex<AlsaPCM?>(nil)
    private var supervisor: Thread?
    private let supervisorDone = DispatchSemaphore(value: 0)
    /// What the device gave when it was first opened (the mixer is built for it).
    public private(set) var negotiated: AlsaPCM.Negotiated?
    /// Whether the device paces writes itself (false: the loop paces itself).
    public private(set) var devicePaces = true
    /// The `--record` file's writer, if recording.
    public private(set) var recorder: PlaybackRecorder?
    /// How long before the device takes a period the loop writes it (kept across reopenings:
    /// an underrun's raise stays).
    private var deviceFill = DeviceFill(target: .zero, step: .zero, limit: .zero)
    /// How long mixing one more stream takes here (measured at start).
    private var streamCost = Nanoseconds.zero
    /// The `--trace-timing` table (an hour of periods at most).
    private var trace: PlaybackTrace?

    /// Makes an engine; nothing is opened until `start`.
    public init(configuration: PlaybackConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        slots = StreamSlots(capacity: configuration.maximumStreams)
        latency = PlaybackLatency(configuration.latency + configuration.outputOffset)
    }

    /// Opens the device and starts playing (silence until streams are attached).
    public func start() throws(AlsaError) {
        let pcm = try AlsaPCM(configuration.device)
        let negotiated = pcm.negotiated
        let periodDuration = negotiated.duration(ofFrames: negotiated.periodFrames)
        streamCost = PlaybackMixer.measureStreamCost(channels: negotiated.channels.rawValue, periodFrames: negotiated.periodFrames,
                                                     deviceRate: negotiated.rate)
        counters.renderTime.set(Int(streamCost.rawValue))
        deviceFill = DeviceFill(target: configuration.fill, step: configuration.fillStep,
                                limit: negotiated.duration(ofFrames: negotiated.bufferFrames - negotiated.periodFrames))
        counters.fill.set(Int(deviceFill.target.rawValue))
        // The floor: the fill and a period. Mixing adds its time too (a stream's is measured
        // here, and reported), but how long it takes varies with the machine's load.
        let floor = deviceFill.target + periodDuration
        if let ceiling = configuration.automaticLatencyCeiling {
            guard ceiling >= floor else {
                throw AlsaError("--max-latency \(ceiling) is below this device's path, the fill (\(deviceFill.target)) and a period (\(periodDuration)) and the time to mix; the floor here is \(floor)")
            }
            latency.target = max(floor, min(configuration.latency, ceiling))
            latency.inForce = latency.target
        } else {
            guard configuration.latency + configuration.outputOffset >= floor else {
                let offset = configuration.outputOffset == .zero ? "" : " with --output-offset \(configuration.outputOffset)"
                throw AlsaError("--latency \(configuration.latency)\(offset) is below this device's path, the fill (\(deviceFill.target)) and a period (\(periodDuration)) and the time to mix: no sample could be heard on time; the floor here is \(floor)")
            }
        }
        if let path = configuration.recordPath {
            recorder = try PlaybackRecorder(path: path, rate: negotiated.rate, channels: negotiated.channels.rawValue)
        }
        self.negotiated = negotiated
        if configuration.timingTracePath != nil {
            trace = PlaybackTrace(capacity: 3_600 * negotiated.rate.hertz / negotiated.periodFrames)
        }
        devicePaces = Self.paces(pcm)
        let pacing = devicePaces ? "" : " — the device does not pace writes; jamplay paces itself on CLOCK_MONOTONIC"
        logger.info("\(pcm.name): \(negotiated); device path \(floor + streamCost) (fill \(deviceFill.target), mixing a stream \(streamCost), a period \(periodDuration)): samples must be in by timestamp + latency \(latency.target) − that\(configuration.automaticLatencyCeiling.map { " (the latency follows what the streams need, up to \($0))" } ?? ""), later ones are skipped\(pacing)")
        // On fault: pages are locked as they are first touched, so the process's reserved but
        // unused memory (thread stacks, allocator arenas) does not become resident.
        if configuration.lockMemory && mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 {
            logger.warning("cannot lock memory (mlockall: \(SystemError.current)); page faults may cause glitches")
        }
        let mixer = PlaybackMixer(channels: negotiated.channels.rawValue, maximumPeriod: negotiated.periodFrames,
                                  latency: latency, slots: slots, counters: counters)
        // Handed over, not captured: the thread object outlives its closure's work, and the device
        // must close when the supervisor ends.
        opened.withLock { $0 = pcm }
        let thread = Thread { [self] in supervise(mixer: mixer) }
        thread.name = "jamplay-playback-supervisor"
        supervisor = thread
        thread.start()
    }

    /// How long before the device takes a period the loop writes it now (raised by underruns).
    public var fill: Nanoseconds { Nanoseconds(Int64(counters.fill.value)) }

    /// How long before it is heard a sample must be in its buffer: the fill, the time a period
    /// takes to mix and write, and a period (zero before the device is open).
    public var devicePath: Nanoseconds {
        guard let negotiated else { return .zero }
        return fill + Nanoseconds(Int64(counters.renderTime.value)) + negotiated.duration(ofFrames: negotiated.periodFrames)
    }

    /// Whether the device is open and playing now (false while it is being reopened).
    public var deviceIsOpen: Bool { current.withLock { $0 != nil } }

    /// Stops the loop and closes the device; with `fadeOut`, the mix first fades to silence over
    /// that time and is heard doing so (the call returns after it, and a device buffer more).
    public func stop(fadeOut: Nanoseconds = .zero) {
        guard supervisor != nil, !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let fadeFrames = negotiated.map { Int(fadeOut.seconds * Double($0.rate.hertz)) } ?? 0
        current.withLock { $0?.requestStop(fadeFrames: fadeFrames) }
        supervisorDone.wait()
        supervisor = nil
        slots.releaseDetached()
        recorder?.finish()
        if let trace, let path = configuration.timingTracePath {
            do { try trace.write(to: path) } catch { logger.error("cannot write the timing trace: \(error)") }
        }
    }

    /// Starts playing the stream ingest handed over; nil when every slot is taken.
    public func attach(_ stream: StreamHandoff) -> Int? {
        guard let negotiated else { return nil }
        return slots.attach(PlaybackStream(stream, maximumPeriod: negotiated.periodFrames, counters: counters,
                                           concealment: configuration.concealment))
    }

    /// Stalls the playback thread once for `duration` (tests: an underrun on demand).
    public func stallOnce(for duration: Nanoseconds) {
        current.withLock { $0?.stall(for: duration) }
    }

    /// Stops playing the stream in `slot` (it is freed once the loop has let go of it).
    public func detach(_ slot: Int) {
        slots.detach(slot)
        slots.collect()
    }

    // MARK: - Supervisor

    private func supervise(mixer: PlaybackMixer) {
        defer { supervisorDone.signal() }
        var pcm = opened.withLock { $0.take() }
        var warnedAboutPriority = false
        var reportedFailure = false
        while !stopping.load(ordering: .acquiring) {
            guard let device = pcm else {
                Thread.sleep(forTimeInterval: 1)
                do {
                    pcm = try AlsaPCM(configuration.device)
                    counters.reopenings.add()
                    logger.notice("\(configuration.device.name) reopened: \(pcm!.negotiated)")
                    reportedFailure = false
                } catch {
                    if !reportedFailure { logger.error("cannot reopen: \(error); retrying every second") }
                    reportedFailure = true
                }
                continue
            }
            guard device.negotiated == negotiated else {
                logger.error("\(device.name) now offers \(device.negotiated), not \(negotiated!); retrying every second")
                pcm = nil
                continue
            }
            let loop = PlaybackLoop(pcm: device, paces: devicePaces, fill: deviceFill, streamCost: streamCost, schedule: schedule, mixer: mixer, counters: counters, recorder: recorder?.queue, trace: trace)
            current.withLock { $0 = loop }
            if stopping.load(ordering: .acquiring) { loop.requestStop() }
            var ending = PlaybackLoop.Ending.stopped
            let thread = RealtimeThread(priority: configuration.realtimePriority) { ending = loop.run() }
            if !thread.isRealtime && !warnedAboutPriority && configuration.realtimePriority > 0 {
                logger.warning("no permission for SCHED_FIFO priority \(configuration.realtimePriority); playing at normal priority")
                warnedAboutPriority = true
            }
            thread.join()
            current.withLock { $0 = nil }
            deviceFill = loop.fill
            switch ending {
            case .stopped: break
            case .deviceFailed(let code):
                logger.error("\(device.name) failed: \(AlsaError("write", code: Int32(code)).description); closing it and reopening every second")
                pcm = nil
            case .deviceStopped:
                logger.error("\(device.name) took no samples for \(PlaybackLoop.stuckTimeoutMilliseconds) ms; closing it and reopening every second")
                pcm = nil
            }
        }
    }

    /// Whether writes block at the device's pace: a non-pacing device swallows several buffers at once.
    private static func paces(_ pcm: AlsaPCM) -> Bool {
        let negotiated = pcm.negotiated
        let frames = negotiated.bufferFrames * 3
        let silence = [UInt8](repeating: 0, count: frames * negotiated.channels.rawValue * negotiated.format.bytesPerSample)
        let clock = SystemMonotonicClock()
        let start = clock.now()
        var offset = 0
        while offset < frames {
            let written = silence.withUnsafeBytes { pcm.write($0.baseAddress! + offset * negotiated.channels.rawValue * negotiated.format.bytesPerSample, frames: frames - offset) }
            if written < 0 { _ = pcm.recover(written); break }
            offset += written
        }
        // Three buffers take two buffers' time on a pacing device (the first fills it at once).
        let twoBuffers = 2 * Double(negotiated.bufferFrames) / Double(negotiated.rate.hertz)
        let paces = (clock.now() - start).seconds > twoBuffers / 2
        pcm.restart()  // the loop starts from an empty buffer, whenever its thread is up
        return paces
    }
}
