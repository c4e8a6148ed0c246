import Core

/// The stream's sample clock: sample frame n is due at reported GPU time `start + n / rate`.
///
/// A GPU audio engine counts samples on its GPU clock, so a skewed GPU clock (`--gpu-skew-ppm`)
/// makes the stream's samples run fast or slow against the receiver's clock, as a real one would.
public struct SampleClock: Hashable, Sendable {
    /// Reported GPU time (unwrapped ns) of sample frame 0.
    public let start: Int64
    /// Sample frames per second.
    public let rate: SampleRate

    /// Makes the clock.
    public init(start: Int64, rate: SampleRate) {
        self.start = start
        self.rate = rate
    }

    /// Reported GPU time of sample frame `index`, rounded to the nearest nanosecond (exact integer
    /// arithmetic, so frames never drift from the grid).
    public func gpuTime(ofSample index: Int64) -> Int64 {
        let hertz = Int64(rate.hertz)
        let (seconds, remainder) = index.quotientAndRemainder(dividingBy: hertz)
        return start + seconds * 1_000_000_000 + (remainder * 1_000_000_000 + hertz / 2) / hertz
    }

    /// The (fractional) sample index at reported GPU time `gpu`.
    public func sampleIndex(atGPU gpu: Int64) -> Double {
        Double(gpu - start) * Double(rate.hertz) / 1e9
    }
}

/// A stream's sample clock seen from the sender's CPU clock.
public struct StreamClock: Sendable {
    /// The sender's clocks.
    public var model: SenderClockModel
    /// The stream's sample clock.
    public let samples: SampleClock

    /// Makes the pair.
    public init(model: SenderClockModel, samples: SampleClock) {
        self.model = model
        self.samples = samples
    }

    /// Reported GPU time (unwrapped) of sample frame `index`.
    public func gpuTime(ofSample index: Int64) -> Int64 { samples.gpuTime(ofSample: index) }

    /// CPU time at which sample frame `index` is due.
    public func cpuTime(ofSample index: Int64) -> Nanoseconds { model.cpuTime(ofReportedGPU: samples.gpuTime(ofSample: index)) }

    /// The (fractional) sample index due at CPU time `cpu`.
    public func sampleIndex(atCPU cpu: Nanoseconds) -> Double { samples.sampleIndex(atGPU: model.reportedGPU(atCPU: cpu)) }
}
