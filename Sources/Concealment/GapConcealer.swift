#if canImport(Glibc)
import Glibc
#endif

/// Predicts the missing frames of an interleaved multichannel stream from the audio around
/// them: forward from the audio before a gap, and — where the audio after it is already there —
/// backward from that too, the two blended across the gap.
///
/// Each side is continued by repeating its last period where it is periodic (``PeriodicExtender``),
/// else by a linear predictor (``BurgPredictor``) per channel. A codec's concealment can only
/// predict forward (a decoder never sees the future); a jitter buffer often holds the frames after
/// a lost one, and a blend that ends on the real audio needs no crossfade where it resumes.
/// All memory is allocated by `init`.
/// Thread: one owner at a time (the concealment worker, or a benchmark). Non-allocating after `init`.
public final class GapConcealer {
    /// Interleaved channels.
    public let channels: Int
    /// The most frames one prediction writes.
    public let maximumGap: Int
    private let linear: BurgPredictor
    private let periodic: PeriodicExtender
    /// The backward prediction, interleaved.
    private let backward: UnsafeMutablePointer<Float>

    /// Prepares predictions of up to `maximumGap` frames of `channels` channels at `rate`
    /// (frames per second) from up to `window` frames each side, with linear predictors of up to
    /// `order` coefficients.
    public init(channels: Int, rate: Int, maximumGap: Int, order: Int, window: Int) {
        precondition(channels > 0 && maximumGap > 0 && rate > 0, "a concealer needs channels, a rate and room")
        self.channels = channels
        self.maximumGap = maximumGap
        // (Any rate a stream may have, down to 1 Hz, makes a working concealer, if a useless one.)
        let window = max(window, order + 1, 8)
        linear = BurgPredictor(maximumOrder: max(1, order), maximumWindow: window)
        // Periods of 1 kHz down to 50 Hz, as far as the window allows two of them.
        let shortest = max(4, rate / 1_000)
        periodic = PeriodicExtender(channels: channels, shortestPeriod: shortest, longestPeriod: max(shortest + 1, min(rate / 50, window / 2)),
                                    maximumHistory: window, maximumCount: maximumGap)
        backward = .allocate(capacity: maximumGap * channels)
        backward.initialize(repeating: 0, count: maximumGap * channels)
    }

    deinit { backward.deallocate() }

    /// Writes `count` frames (at most ``maximumGap``) continuing the `historyFrames` frames at
    /// `history` to `output`, interleaved. Returns false when there was no audio to continue
    /// (silence is written).
    @discardableResult
    public func continueForward(history: UnsafePointer<Float>, historyFrames: Int, count: Int,
                                into output: UnsafeMutablePointer<Float>) -> Bool {
        predict(from: history, frames: historyFrames, direction: 1, count: min(count, maximumGap), into: output) != .none
    }

    /// Writes the `gap` frames (at most ``maximumGap``) between the `beforeFrames` frames at
    /// `before` and the `afterFrames` frames at `after` to `output`, interleaved: a forward
    /// prediction and a backward one, blended with weights that move from the one to the other.
    /// Two predictions alike in kind blend across the whole gap; a periodic one beside a linear
    /// one (which stays close to the audio only near where it starts) is kept but for its last
    /// `crossfade` frames, where the other takes over. Where one side has no audio, the other alone.
    @discardableResult
    public func bridge(before: UnsafePointer<Float>, beforeFrames: Int, after: UnsafePointer<Float>, afterFrames: Int,
                       gap: Int, crossfade: Int, into output: UnsafeMutablePointer<Float>) -> Bool {
        let frames = min(gap, maximumGap)
        guard frames > 0 else { return false }
        let forward = predict(from: before, frames: beforeFrames, direction: 1, count: frames, into: output)
        let forwardPeriod = (period: periodic.period, similarity: periodic.similarity)
        // Backward: the audio after the gap read from its end to its start is a history whose
        // newest frame is the first after the gap; its continuation runs backwards in time.
        let backwardKind = predict(from: after + (max(afterFrames, 1) - 1) * channels, frames: afterFrames, direction: -1,
                                   count: frames, into: backward + (frames - 1) * channels)
        // Where the blend runs: the whole gap, or only the end nearest the weaker side.
        let forwardEnd = max(0, frames - crossfade)..<frames, backwardStart = 0..<min(frames, crossfade)
        let blend: Range<Int>
        switch (forward, backwardKind) {
        case (.none, .none): return false
        case (_, .none): return true
        case (.none, _): output.update(from: backward, count: frames * channels); return true
        case (.periodic, .linear): blend = forwardEnd
        case (.linear, .periodic): blend = backwardStart
        case (.periodic, .periodic) where abs(forwardPeriod.period - periodic.period) > 0.01 * forwardPeriod.period:
            // Periods that disagree: one side found a wrong one (often the side with less audio).
            blend = forwardPeriod.similarity >= periodic.similarity ? forwardEnd : backwardStart
        default: blend = 0..<frames
        }
        for frame in 0..<frames {
            // cos² from 1 to 0 across the blend: the weights sum to one.
            let weight: Float = frame < blend.lowerBound ? 1 : frame >= blend.upperBound ? 0
                : Float(Self.forwardWeight(frame - blend.lowerBound, of: blend.count))
            for channel in 0..<channels {
                let index = frame * channels + channel
                output[index] = weight * output[index] + (1 - weight) * backward[index]
            }
        }
        return true
    }

    /// The forward prediction's weight at frame `index` of a blend `frames` long (cos² from 1 to 0).
    @inline(__always)
    public static func forwardWeight(_ index: Int, of frames: Int) -> Double {
        let phase = (Double(index) + 0.5) / Double(frames)
        let cosine = cos(phase * Double.pi / 2)
        return cosine * cosine
    }

    /// Fades `frames` frames of `samples` (interleaved, `channels` each) from full level to silence.
    public static func fadeOut(_ samples: UnsafeMutablePointer<Float>, frames: Int, channels: Int) {
        for index in 0..<frames {
            let gain = Float(forwardWeight(index, of: frames))
            for channel in 0..<channels { samples[index * channels + channel] *= gain }
        }
    }

    /// How a side was continued.
    private enum Prediction { case none, periodic, linear }

    /// Continues the `frames` frames read from `history` (the oldest) on in `direction` (+1
    /// forward in memory, −1 backward; the last read is the newest) by `count` frames written from
    /// `output` on in the same direction; `.none` (silence written) when there was nothing to continue.
    private func predict(from history: UnsafePointer<Float>, frames: Int, direction: Int, count: Int,
                         into output: UnsafeMutablePointer<Float>) -> Prediction {
        guard frames > 0 else {
            for frame in 0..<count { for channel in 0..<channels { output[direction * frame * channels + channel] = 0 } }
            return .none
        }
        if periodic.find(history: history, frames: frames, stride: direction) {
            periodic.extend(history: history, frames: frames, stride: direction, count: count, into: output, outputStride: direction)
            return .periodic
        }
        var any = false
        for channel in 0..<channels {
            let samples = history + channel
            let peak = Self.peak(samples, frames: frames, stride: direction * channels)
            linear.fit(samples, count: frames, stride: direction * channels)
            any = linear.extrapolate(history: samples, historyCount: frames, historyStride: direction * channels, count: count,
                                     into: output + channel, stride: direction * channels, limit: 2 * peak) || any
        }
        return any ? .linear : .none
    }

    /// The largest magnitude among `frames` samples `stride` apart.
    private static func peak(_ samples: UnsafePointer<Float>, frames: Int, stride: Int) -> Float {
        var peak: Float = 0
        for index in 0..<frames { peak = max(peak, abs(samples[index * stride])) }
        return peak
    }
}
