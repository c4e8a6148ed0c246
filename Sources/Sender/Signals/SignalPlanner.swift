import Core

/// Turns the stream's position into each frame's shader parameters, in exact integer arithmetic so
/// the signal is continuous across frames however long the stream runs.
public struct SignalPlanner: Sendable {
    /// Why a signal cannot be planned for this stream.
    public struct ConfigurationError: Error, CustomStringConvertible {
        /// What is wrong and what would work.
        public let description: String
    }

    private let signal: Signal
    private let rate: SampleRate
    private let channels: ChannelCount
    private let framesPerMessage: Int
    private let seed: UInt32
    private let fileFrames: Int

    /// Checks that the signal fits the stream; `fileFrames` is the length of a `file:` signal.
    public init(signal: Signal, rate: SampleRate, channels: ChannelCount, framesPerMessage: Int, seed: UInt64, fileFrames: Int = 0) throws(ConfigurationError) {
        let nyquist = Double(rate.hertz) / 2
        switch signal {
        case .sine(let frequency, _) where frequency > nyquist,
             .chirp(let frequency, _, _, _) where frequency > nyquist,
             .chirp(_, let frequency, _, _) where frequency > nyquist:
            throw ConfigurationError(description: "\(signal): \(frequency) Hz is above half the sample rate (\(rate))")
        case .impulse(let period):
            let perFrame = Double(framesPerMessage) / Double(rate.hertz) / period.seconds
            if perFrame + 1 > Double(SignalFrameParameters.maximumImpulses) {
                throw ConfigurationError(description: "\(signal): period too short for \(framesPerMessage)-sample frames at \(rate) (at most \(SignalFrameParameters.maximumImpulses - 1) impulses per frame); use a longer period or a smaller --frame")
            }
        case .file where fileFrames < 1:
            throw ConfigurationError(description: "\(signal): the file has no samples")
        default: break
        }
        self.signal = signal
        self.rate = rate
        self.channels = channels
        self.framesPerMessage = framesPerMessage
        self.seed = UInt32(truncatingIfNeeded: seed)
        self.fileFrames = fileFrames
    }

    /// Parameters for the frame of `count` sample frames starting at stream sample `first`.
    /// Impulses sit on the sample nearest each multiple of the period on the CPU clock of `clock`.
    public func parameters(first: Int64, count: Int, clock: StreamClock) -> SignalFrameParameters {
        var parameters = SignalFrameParameters()
        parameters.frameCount = UInt32(count)
        parameters.channels = UInt32(channels.rawValue)
        parameters.sampleIndex = UInt64(first)
        switch signal {
        case .silence:
            parameters.kind = .silence
        case .sine(let frequency, let amplitude):
            parameters.kind = .sine
            parameters.amplitude = amplitude
            parameters.phaseStep = phaseStep(frequency)
            parameters.phase = UInt32(truncatingIfNeeded: UInt64(first) &* UInt64(parameters.phaseStep))
        case .chirp(let start, let end, let duration, let amplitude):
            parameters.kind = .chirp
            parameters.amplitude = amplitude
            // The sweep restarts at the first frame boundary after `duration`.
            let sweepSamples = max(1, Int64((duration.seconds * Double(rate.hertz)).rounded()))
            let sweepFrames = (sweepSamples + Int64(framesPerMessage) - 1) / Int64(framesPerMessage)
            let position = UInt64(first % (sweepFrames * Int64(framesPerMessage)))
            let startStep = phaseStep(start)
            let delta = UInt32(truncatingIfNeeded: Int64(((end - start) / Double(rate.hertz) / Double(sweepSamples) * 0x1p32).rounded()))
            // phase(j) = j·step0 + j(j−1)/2·delta, step(j) = step0 + j·delta (all mod 2^32).
            let triangle = position % 2 == 0 ? (position / 2) &* (position &- 1) : position &* ((position &- 1) / 2)
            parameters.phase = UInt32(truncatingIfNeeded: position &* UInt64(startStep) &+ triangle &* UInt64(delta))
            parameters.phaseStep = UInt32(truncatingIfNeeded: UInt64(startStep) &+ position &* UInt64(delta))
            parameters.phaseStepDelta = delta
        case .noise(let amplitude):
            parameters.kind = .noise
            parameters.amplitude = amplitude
            parameters.noiseSeed = seed
        case .impulse(let period):
            parameters.kind = .impulse
            parameters.amplitude = 1
            parameters.impulseIndices = impulses(first: first, count: count, period: period, clock: clock)
        case .file:
            parameters.kind = .file
            parameters.fileFrame = UInt32(first % Int64(fileFrames))
            parameters.fileFrames = UInt32(fileFrames)
        }
        return parameters
    }

    private func phaseStep(_ frequency: Double) -> UInt32 {
        UInt32((frequency / Double(rate.hertz) * 0x1p32).rounded())
    }

    /// Offsets within the frame of the samples nearest each multiple of `period`.
    private func impulses(first: Int64, count: Int, period: Nanoseconds, clock: StreamClock) -> [UInt32] {
        // Start one multiple before the frame's first sample (a sample lasts less than a period).
        let frameStart = clock.cpuTime(ofSample: first).rawValue
        var multiple = frameStart / period.rawValue - (frameStart < 0 ? 2 : 1)
        var indices: [UInt32] = []
        while indices.count < SignalFrameParameters.maximumImpulses {
            let nearest = Int64(clock.sampleIndex(atCPU: Nanoseconds(multiple * period.rawValue)).rounded(.toNearestOrAwayFromZero))
            if nearest >= first + Int64(count) { break }
            if nearest >= first { indices.append(UInt32(nearest - first)) }
            multiple += 1
        }
        return indices
    }
}
