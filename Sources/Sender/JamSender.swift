import Core
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// The sender loop: renders each frame, stamps it on the (reported) GPU clock, and sends it `lead`
/// before its first sample's time on `CLOCK_MONOTONIC` — or, capturing, once its last sample's
/// time has passed — with calibration blocks every interval.
///
/// Thread: the caller's (it blocks until the stream ends or `shouldStop` says so).
public final class JamSender {
    private let configuration: SenderConfiguration
    private var source: any TimestampSource
    private var renderer: any SignalRenderer
    private let planner: SignalPlanner
    private let log: (String) -> Void
    private let clock = SystemMonotonicClock()
    private let encoder = JamnetEncoder()
    /// Work done so far.
    public private(set) var statistics = SenderStatistics()

    /// How long before a frame's send time it is rendered (a dispatch takes well under this).
    static let renderMargin = Nanoseconds.milliseconds(2)

    /// Prepares a sender; `fileFrames` is the length of a `file:` signal (checked by the planner).
    public init(configuration: SenderConfiguration, source: any TimestampSource, renderer: any SignalRenderer,
                fileFrames: Int = 0, log: @escaping (String) -> Void) throws {
        guard configuration.framesPerMessage > 0 else { throw SignalPlanner.ConfigurationError(description: "--frame must be at least 1") }
        self.configuration = configuration
        self.source = source
        self.renderer = renderer
        self.log = log
        planner = try SignalPlanner(signal: configuration.signal, rate: configuration.rate, channels: configuration.channels,
                                    framesPerMessage: configuration.framesPerMessage, seed: configuration.seed, fileFrames: fileFrames)
    }

    /// Runs until the duration is sent or `shouldStop()` returns true; `progress` is called after
    /// each frame.
    public func run(shouldStop: () -> Bool, progress: (SenderStatistics) -> Void = { _ in }) throws {
        let settings = configuration
        let output = try SenderOutput(settings.output, sessionID: settings.sessionID, impairments: settings.impairments,
                                      seed: settings.seed, log: log)
        defer { output.finish() }
        let firstReading = try source.readCalibration()
        // Sample 0 is due a little after now, so the first frame can go out on time.
        let firstSampleCPU = settings.firstSampleAt ?? firstReading.cpu + (settings.capture ? .zero : max(settings.lead, .zero)) + .milliseconds(50)
        let model = SenderClockModel(knobs: settings.knobs, firstReading: firstReading)
        var stream = StreamClock(model: model, samples: SampleClock(start: model.reportedGPU(atCPU: firstSampleCPU), rate: settings.rate))
        var random = SeededRandomNumberGenerator(seed: settings.seed)
        let frames = settings.framesPerMessage
        let channels = settings.channels.rawValue
        let totalSamples = settings.duration.map { Int64(($0.seconds * Double(settings.rate.hertz)).rounded()) } ?? .max
        let spacing = Nanoseconds(Int64(Double(frames) / Double(settings.rate.hertz) * 1e9))
        var samples = [Float](repeating: 0, count: frames * channels)
        var line: [UInt8] = []
        line.reserveCapacity(frames * channels * 16 + 256)
        var nextCalibration = firstReading.cpu
        var pendingReading: CalibrationReading? = firstReading

        var index: Int64 = 0
        while index * Int64(frames) < totalSamples && !shouldStop() {
            let first = index * Int64(frames)
            let count = Int(min(Int64(frames), totalSamples - first))
            let sendAt = settings.capture ? stream.cpuTime(ofSample: first + Int64(count)) : stream.cpuTime(ofSample: first) - settings.lead
            let renderAt = sendAt - Self.renderMargin
            if settings.paced { wait(until: renderAt, output: output, shouldStop: shouldStop) }
            let ready = output.isReady(now: clock.now())

            if clock.now() >= nextCalibration || (ready && output.needsCalibration) {
                let reading = try pendingReading ?? source.readCalibration()
                pendingReading = nil
                stream.model.update(with: reading)
                if ready {
                    sendCalibration(reading, model: stream.model, output: output)
                    output.needsCalibration = false
                }
                let now = clock.now()
                if now >= nextCalibration {
                    nextCalibration += settings.calibrationInterval
                    if nextCalibration <= now { nextCalibration = now + settings.calibrationInterval }
                }
            }

            let parameters = planner.parameters(first: first, count: count, clock: stream)
            let renderedAt = clock.now()
            let times = try samples.withUnsafeMutableBufferPointer { try renderer.render(parameters, into: $0) }
            var stamp = stream.gpuTime(ofSample: first)
            if settings.stampMode == .dispatch {
                // The dispatch's actual GPU time, moved by the planned time from render to sample.
                let dispatched = times.map { stream.model.reported(rawGPU: $0.started) } ?? stream.model.reportedGPU(atCPU: renderedAt)
                stamp = dispatched + (stamp - stream.model.reportedGPU(atCPU: renderAt))
            }
            if settings.stampJitter > .zero {
                stamp += Int64.random(in: -settings.stampJitter.rawValue...settings.stampJitter.rawValue, using: &random)
            }
            let header = AudioFrameHeader(timestamp: .gpu(settings.knobs.wire(stamp)), sessionID: settings.sessionID,
                                          streamID: settings.streamID, sequence: UInt64(index), sampleRate: settings.rate,
                                          channelCount: settings.channels)
            line.removeAll(keepingCapacity: true)
            try samples.withUnsafeBufferPointer { buffer in
                try encoder.encode(header, samples: UnsafeBufferPointer(rebasing: buffer[0..<count * channels]), into: &line)
            }
            line.append(UInt8(ascii: "\n"))

            if settings.paced { wait(until: sendAt, output: output, shouldStop: shouldStop) }
            let now = clock.now()
            // (Connecting happens only before rendering, so a new connection gets its block first.)
            if ready {
                if settings.paced { statistics.recordSendError(now - sendAt) }
                if output.sendFrame(line, now: now, spacing: spacing) {
                    statistics.framesSent += 1
                    statistics.samplesSent += Int64(count)
                } else {
                    statistics.framesDropped += 1
                }
            } else {
                statistics.framesDropped += 1
            }
            output.update(&statistics)
            progress(statistics)
            index += 1
        }
        // Let held-back datagrams leave at their times, then close.
        while let due = output.nextDue, !shouldStop() {
            sleep(until: due)
            output.sendDue(now: clock.now())
        }
        output.update(&statistics)
    }

    private func sendCalibration(_ reading: CalibrationReading, model: SenderClockModel, output: SenderOutput) {
        let knobs = configuration.knobs
        let reported = model.reported(rawGPU: reading.gpu)
        let block = SyncCalibrationBlock(timestampCPU: reading.cpu.rawValue, timestampGPU: knobs.wire(reported),
                                         timestampBits: knobs.bits, maxDeviation: reading.maxDeviation,
                                         clockBase: source.clockBase, sessionID: configuration.sessionID, origin: reading.origin)
        var line: [UInt8] = []
        guard (try? encoder.encode(block, into: &line)) != nil else { return }
        line.append(UInt8(ascii: "\n"))
        if output.send(line) {
            statistics.calibrationOffset = reported - reading.cpu.rawValue
            statistics.calibrationDeviation = reading.maxDeviation
        }
    }

    /// Sleeps until `deadline`, sending impaired datagrams as they fall due.
    private func wait(until deadline: Nanoseconds, output: SenderOutput, shouldStop: () -> Bool) {
        while !shouldStop() {
            let now = clock.now()
            output.sendDue(now: now)
            guard now < deadline else { return }
            sleep(until: min(deadline, output.nextDue ?? deadline))
        }
    }

    /// An absolute sleep on `CLOCK_MONOTONIC` (a signal ends it early).
    private func sleep(until deadline: Nanoseconds) {
        var time = timespec(tv_sec: Int(deadline.rawValue / 1_000_000_000), tv_nsec: Int(deadline.rawValue % 1_000_000_000))
        _ = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &time, nil)
    }
}
