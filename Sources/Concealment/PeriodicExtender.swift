/// Continues periodic audio by repeating its last period: the period found by normalized
/// autocorrelation over all channels together, each channel then repeated with its own gain
/// (at most 1), at a fractional period (4-point interpolation).
///
/// Tonal music — a voice, a string, a chord — is periodic over the tens of milliseconds a gap
/// lasts, and repeating the last period keeps every harmonic's phase, which a linear predictor
/// of practical order cannot (BENCHMARKS.md, "Loss concealment"). All memory is allocated by `init`.
/// Thread: one owner at a time. Non-allocating after `init`.
public final class PeriodicExtender {
    /// Interleaved channels.
    public let channels: Int
    /// The shortest and longest period searched, in sample frames.
    public let shortestPeriod: Int, longestPeriod: Int
    /// How alike two neighbouring periods must be (normalized correlation, 0 … 1) to be repeated.
    public let threshold: Double
    private let capacity: Int, historyCapacity: Int
    /// The channels' sum over the history.
    private let mono: UnsafeMutablePointer<Double>
    /// The channels' sum at a quarter of the rate.
    private let coarse: UnsafeMutablePointer<Double>
    /// One channel's history and continuation, each channel in turn.
    private let line: UnsafeMutablePointer<Double>

    /// The period the last ``find(history:frames:stride:)`` found, in sample frames (0: none), and how alike.
    public private(set) var period = 0.0, similarity = 0.0

    /// Prepares for `channels` channels, periods of `shortestPeriod` … `longestPeriod` frames,
    /// histories of up to `maximumHistory` frames and continuations of up to `maximumCount`.
    public init(channels: Int, shortestPeriod: Int, longestPeriod: Int, maximumHistory: Int, maximumCount: Int, threshold: Double = 0.7) {
        precondition(channels > 0 && shortestPeriod >= 4 && longestPeriod > shortestPeriod, "periods need a range")
        self.channels = channels
        self.shortestPeriod = shortestPeriod
        self.longestPeriod = longestPeriod
        self.threshold = threshold
        capacity = maximumHistory + maximumCount + 4
        historyCapacity = maximumHistory
        mono = .allocate(capacity: maximumHistory)
        mono.initialize(repeating: 0, count: maximumHistory)
        coarse = .allocate(capacity: maximumHistory / Self.decimation + 1)
        coarse.initialize(repeating: 0, count: maximumHistory / Self.decimation + 1)
        line = .allocate(capacity: capacity)
        line.initialize(repeating: 0, count: capacity)
    }

    deinit {
        mono.deallocate()
        coarse.deallocate()
        line.deallocate()
    }

    /// Looks for the period of the newest audio in `frames` frames of interleaved `history`
    /// (`stride` frames apart in memory, negative to read backwards); true when one alike
    /// enough to repeat was found (``period``, ``similarity``).
    @discardableResult
    public func find(history: UnsafePointer<Float>, frames: Int, stride: Int = 1) -> Bool {
        period = 0
        similarity = 0
        // The newest frames, as many as fit.
        let history = history + max(0, frames - historyCapacity) * stride * channels
        let frames = min(frames, historyCapacity)
        let longest = min(longestPeriod, frames / 2)
        guard longest > shortestPeriod else { return false }
        for frame in 0..<frames {
            var sum = 0.0
            let sample = history + frame * stride * channels
            for channel in 0..<channels { sum += Double(sample[channel]) }
            mono[frame] = sum
        }
        // First at a quarter of the rate (the sum of four frames), where the search costs a
        // sixteenth; then at the full rate around what it found.
        let coarseFrames = frames / Self.decimation
        for index in 0..<coarseFrames {
            let source = mono + frames - (coarseFrames - index) * Self.decimation
            coarse[index] = source[0] + source[1] + source[2] + source[3]
        }
        let coarseLag = Self.peakLag(coarse, frames: coarseFrames, shortest: max(2, shortestPeriod / Self.decimation),
                                     longest: longest / Self.decimation)
        guard coarseLag > 0 else { return false }
        let window = frames - longest
        let newest = mono + (frames - window)
        var chosen = 0, value = -1.0
        for lag in max(shortestPeriod, coarseLag * Self.decimation - Self.decimation)...min(longest, coarseLag * Self.decimation + Self.decimation) {
            let candidate = correlation(at: lag, newest: newest, window: window)
            if candidate > value { value = candidate; chosen = lag }
        }
        guard chosen > 0, value >= threshold else { return false }
        // A fractional period: the parabola through the correlations either side.
        let before = correlation(at: chosen - 1, newest: newest, window: window)
        let after = chosen < longest ? correlation(at: chosen + 1, newest: newest, window: window) : value
        let curvature = before - 2 * value + after
        let shift = curvature < 0 ? min(max(0.5 * (before - after) / curvature, -0.5), 0.5) : 0
        period = Double(chosen) + shift
        similarity = value
        return true
    }

    /// How many frames one frame of the coarse search sums.
    private static let decimation = 4

    /// The lag of `signal`'s period among `shortest` … `longest` frames (0: none), comparing its
    /// newest frames with those a lag earlier: the first strong peak of the normalized
    /// correlation, not merely the largest — a multiple of the period correlates as well, but
    /// repeats older audio.
    private static func peakLag(_ signal: UnsafeMutablePointer<Double>, frames: Int, shortest: Int, longest: Int) -> Int {
        guard longest > shortest, frames >= 2 * longest else { return 0 }
        let window = frames - longest
        let newest = signal + (frames - window)
        var newestEnergy = 0.0
        for index in 0..<window { newestEnergy += newest[index] * newest[index] }
        guard newestEnergy > 1e-12 * Double(window) else { return 0 }
        // The energy of the earlier window, slid one frame a lag.
        var earlierEnergy = 0.0
        for index in 0..<window { let value = newest[index - shortest]; earlierEnergy += value * value }
        var best = 0.0, bestLag = 0
        var correlations = (previous: 0.0, current: 0.0)
        var candidate = (lag: 0, value: 0.0)
        for lag in shortest...longest {
            if lag > shortest {
                let leaving = newest[window - lag], entering = newest[-lag]
                earlierEnergy += entering * entering - leaving * leaving
            }
            var product = 0.0
            for index in 0..<window { product += newest[index] * newest[index - lag] }
            let normalized = earlierEnergy > 1e-30 ? product / (newestEnergy * earlierEnergy).squareRoot() : 0
            if correlations.current > correlations.previous && correlations.current >= normalized && lag - 1 > shortest
                && correlations.current > candidate.value + 0.05 {
                candidate = (lag - 1, correlations.current)
            }
            if normalized > best { best = normalized; bestLag = lag }
            correlations = (correlations.current, normalized)
        }
        // The first peak within a little of the best.
        return candidate.value >= best - 0.05 && candidate.lag > 0 ? candidate.lag : bestLag
    }

    /// Writes `count` frames continuing the `frames` frames of interleaved `history` by repeating
    /// its last ``period`` (found by ``find(history:frames:stride:)`` on the same history) to
    /// `output[0]`, `output[outputStride]`, … (frames; negative strides run backwards in time).
    public func extend(history: UnsafePointer<Float>, frames: Int, stride: Int = 1, count: Int,
                       into output: UnsafeMutablePointer<Float>, outputStride: Int = 1) {
        let history = history + max(0, frames - historyCapacity) * stride * channels
        let frames = min(frames, historyCapacity)
        let count = min(count, capacity - frames)
        // Interpolating a period before the last real frame reads two frames further back.
        guard period > 0, frames > Int(period.rounded(.up)) + 3 else {
            for frame in 0..<count { for channel in 0..<channels { output[frame * outputStride * channels + channel] = 0 } }
            return
        }
        for channel in 0..<channels {
            for frame in 0..<frames { line[frame] = Double(history[frame * stride * channels + channel]) }
            // The channel's gain from one period to the next: its own decay, never a rise.
            let integer = Int(period.rounded())
            var product = 0.0, energy = 0.0
            // Over the last period, or as much of it as has a period before it.
            for index in (frames - min(integer, frames - integer))..<frames {
                product += line[index] * line[index - integer]
                energy += line[index - integer] * line[index - integer]
            }
            let gain = energy > 1e-30 ? min(max(product / energy, 0), 1) : 0
            // Where the repetition meets the real audio, it is off by what the period misses (no
            // audio repeats exactly): that difference, as the model sees it at the last real
            // frame, is taken out over the first millisecond so that the join has no step.
            let miss = gain * interpolated(at: Double(frames - 1) - period) - line[frames - 1]
            for index in frames..<(frames + count) {
                line[index] = gain * interpolated(at: Double(index) - period)
                let offset = index - frames
                let correction = offset < shortestPeriod ? miss * GapConcealer.forwardWeight(offset, of: shortestPeriod) : 0
                output[offset * outputStride * channels + channel] = Float(line[index] - correction)
            }
        }
    }

    /// The channel's line at a fractional frame (4-point cubic interpolation).
    @inline(__always)
    private func interpolated(at position: Double) -> Double {
        let base = Int(position.rounded(.down))
        let fraction = position - Double(base)
        let p0 = line[base - 1], p1 = line[base], p2 = line[base + 1], p3 = line[base + 2]
        return p1 + 0.5 * fraction * (p2 - p0 + fraction * (2 * p0 - 5 * p1 + 4 * p2 - p3 + fraction * (3 * (p1 - p2) + p3 - p0)))
    }

    /// The normalized correlation of the window with the window `lag` frames earlier.
    private func correlation(at lag: Int, newest: UnsafeMutablePointer<Double>, window: Int) -> Double {
        var product = 0.0, one = 0.0, other = 0.0
        for index in 0..<window {
            product += newest[index] * newest[index - lag]
            one += newest[index] * newest[index]
            other += newest[index - lag] * newest[index - lag]
        }
        return one > 1e-30 && other > 1e-30 ? product / (one * other).squareRoot() : 0
    }
}

