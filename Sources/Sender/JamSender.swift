import Authentication
import Core
import Wire

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
    /// Signs every line with `--key` (nil: lines go unsigned).
    private let signer: LineSigner?
    /// The version the lines declare: jamnet/1.2 when signed.
    private let version: ProtocolVersion
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
        signer = configuration.key.map { LineSigner(key: $0) }
        version = configuration.key == nil ? .current : .authentication
        planner = try SignalPlanner(signal: configuration.signal, rate: configuration.rate, channels: configuration.channels,
                                    framesPerMessage: configuration.framesPerMessage, seed: configuration.seed, fileFrames: fileFrames)
    }

    /// What one run keeps from frame to frame.
    private struct Run {
        var stream: StreamClock
        var random: SeededRandomNumberGenerator
        /// One frame's samples, interleaved, and its line (reused: nothing allocates per frame).
        var samples: [Float]
        var line: [UInt8] = []
        var nextCalibration: Nanoseconds
    }

    /// Runs until the duration is sent or `shouldStop()` returns true; `progress` is called after
    /// each frame.
    public func run(shouldStop: () -> Bool, progress: (SenderStatistics) -> Void = { _ in }) throws {
        let settings = configuration
        let output = try SenderOutput(settings.output, sessionID: settings.sessionID, signer: signer, impairments: settings.impairments,
                                      seed: settings.seed, log: log)
        defer { output.finish() }
        let firstReading = try source.readCalibration()
        // Sample 0 is due a little after now, so the first frame can go out on time.
        let firstSampleCPU = settings.firstSampleAt ?? firstReading.cpu + (settings.capture ? .zero : max(settings.lead, .zero)) + .milliseconds(50)
        let model = SenderClockModel(knobs: settings.knobs, firstReading: firstReading)
        let frames = settings.framesPerMessage
        var run = Run(stream: StreamClock(model: model, samples: SampleClock(start: model.reportedGPU(atCPU: firstSampleCPU), rate: settings.rate)),
                      random: SeededRandomNumberGenerator(seed: settings.seed),
                      samples: [Float](repeating: 0, count: frames * settings.channels.rawValue),
                      nextCalibration: firstReading.cpu)
        run.line.reserveCapacity(frames * settings.channels.rawValue * 16 + 256)
        let totalSamples = settings.duration.map { Int64(($0.seconds * Double(settings.rate.hertz)).rounded()) } ?? .max
        let spacing = Nanoseconds(Int64(Double(frames) / Double(settings.rate.hertz) * 1e9))

        var index: Int64 = 0
        while index * Int64(frames) < totalSamples && !shouldStop() {
            let first = index * Int64(frames)
            let count = Int(min(Int64(frames), totalSamples - first))
            let sendAt = settings.capture ? run.stream.cpuTime(ofSample: first + Int64(count)) : run.stream.cpuTime(ofSample: first) - settings.lead
            let renderAt = sendAt - Self.renderMargin
            if settings.paced { wait(until: renderAt, output: output, shouldStop: shouldStop) }
            // (Connecting happens only before rendering, so a new connection gets its block first.)
            let ready = output.isReady(now: clock.now())
            try calibrateIfDue(&run, ready: ready, output: output)
            try encodeFrame(index: index, first: first, count: count, renderAt: renderAt, into: &run)
            if settings.paced { wait(until: sendAt, output: output, shouldStop: shouldStop) }
            send(run.line, ready: ready, samples: count, intendedAt: sendAt, spacing: spacing, output: output)
            progress(statistics)
            index += 1
        }
        // Let held-back datagrams leave at their times, then close.
        while let due = output.nextDue, !shouldStop() {
            clock.sleep(until: due)  // a signal ends it early
            output.sendDue(now: clock.now())
        }
        output.update(&statistics)
    }

    /// Reads the clocks when a calibration block is due (every interval, and first thing on a new
    /// connection), updates the clock model with the reading, and sends the block when the output
    /// is ready.
    private func calibrateIfDue(_ run: inout Run, ready: Bool, output: SenderOutput) throws {
        guard clock.now() >= run.nextCalibration || (ready && output.needsCalibration) else { return }
        // Read now, not reused from the start: a block's CPU time is when it is sent (receivers
        // that get no echoes measure the path from it).
        let reading = try source.readCalibration()
        run.stream.model.update(with: reading)
        if ready {
            sendCalibration(reading, model: run.stream.model, output: output)
            output.needsCalibration = false
        }
        let now = clock.now()
        if now >= run.nextCalibration {
            run.nextCalibration += configuration.calibrationInterval
            if run.nextCalibration <= now { run.nextCalibration = now + configuration.calibrationInterval }
        }
    }

    /// Renders frame `index` (`count` sample frames from `first`), stamps it and encodes its line
    /// into `run.line`.
    private func encodeFrame(index: Int64, first: Int64, count: Int, renderAt: Nanoseconds, into run: inout Run) throws {
        let settings = configuration
        let parameters = planner.parameters(first: first, count: count, clock: run.stream)
        let renderedAt = clock.now()
        let times = try run.samples.withUnsafeMutableBufferPointer { try renderer.render(parameters, into: $0) }
        var stamp = run.stream.gpuTime(ofSample: first)
        if settings.stampMode == .dispatch {
            // The dispatch's actual GPU time, moved by the planned time from render to sample.
            let model = run.stream.model
            let dispatched = times.map { model.reported(rawGPU: $0.started) } ?? model.reportedGPU(atCPU: renderedAt)
            stamp = dispatched + (stamp - model.reportedGPU(atCPU: renderAt))
        }
        if settings.stampJitter > .zero {
            stamp += Int64.random(in: -settings.stampJitter.rawValue...settings.stampJitter.rawValue, using: &run.random)
        }
        let header = AudioFrameHeader(version: version, timestamp: .gpu(settings.knobs.wire(stamp)), sessionID: settings.sessionID,
                                      streamID: settings.streamID, sequence: UInt64(index), sampleRate: settings.rate,
                                      channelCount: settings.channels)
        run.line.removeAll(keepingCapacity: true)
        let channels = settings.channels.rawValue, samples = run.samples
        try samples.withUnsafeBufferPointer { buffer in
            try encoder.encode(header, samples: UnsafeBufferPointer(rebasing: buffer[0..<count * channels]), into: &run.line)
        }
        signer?.sign(&run.line)
        run.line.append(UInt8(ascii: "\n"))
    }

    /// Sends a frame's line of `samples` sample frames, due at `intendedAt`, when the output is
    /// ready (else it is dropped), and counts what became of it.
    private func send(_ line: [UInt8], ready: Bool, samples: Int, intendedAt: Nanoseconds, spacing: Nanoseconds, output: SenderOutput) {
        let now = clock.now()
        if ready {
            if configuration.paced { statistics.recordSendError(now - intendedAt) }
            if output.sendFrame(line, now: now, spacing: spacing) {
                statistics.framesSent += 1
                statistics.samplesSent += Int64(samples)
            } else {
                statistics.framesDropped += 1
            }
        } else {
            statistics.framesDropped += 1
        }
        output.update(&statistics)
    }

    private func sendCalibration(_ reading: CalibrationReading, model: SenderClockModel, output: SenderOutput) {
        let knobs = configuration.knobs
        let reported = model.reported(rawGPU: reading.gpu)
        let block = SyncCalibrationBlock(version: version, timestampCPU: reading.cpu.rawValue, timestampGPU: knobs.wire(reported),
                                         timestampBits: knobs.bits, maxDeviation: reading.maxDeviation,
                                         clockBase: source.clockBase, sessionID: configuration.sessionID, origin: reading.origin)
        var line: [UInt8] = []
        guard (try? encoder.encode(block, into: &line)) != nil else { return }
        signer?.sign(&line)
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
            clock.sleep(until: min(deadline, output.nextDue ?? deadline))
        }
    }
}
