import Buffer
import Concealment
import Core

/// Plays a take with some frames lost, filling each gap as one method would, offline and
/// deterministically: what a listener would hear.
public enum ConcealmentSimulation {
    /// How a gap is filled.
    public enum Method: String, Sendable, CaseIterable {
        /// Silence (jamplay with `--conceal off`).
        case silence
        /// The last 10 ms played, again.
        case repeatLast = "repeat last frame"
        /// jamplay's prediction forward from before the gap only, crossfaded into the audio after it.
        case forward = "jamplay forward"
        /// jamplay's prediction from both sides of the gap, blended (the frames after it have arrived).
        case twoSided = "jamplay two-sided"
    }

    /// `signal` with the frames `pattern` loses filled by `method`.
    public static func play(_ signal: TestSignal, losing pattern: LossPattern, with method: Method,
                            settings: ConcealmentSettings = .standard) -> [Float] {
        let channels = TestSignal.channels
        var output = signal.samples
        let rate = SampleRate(hertz: TestSignal.rate)
        let history = ConcealmentSettings.frames(settings.history, at: rate)
        let limit = ConcealmentSettings.frames(settings.limit, at: rate)
        let fade = ConcealmentSettings.frames(settings.fade, at: rate)
        let crossfade = ConcealmentSettings.frames(settings.crossfade, at: rate)
        let concealer = GapConcealer(channels: channels, rate: TestSignal.rate, maximumGap: limit, order: settings.order, window: history)
        var prediction = [Float](repeating: 0, count: limit * channels)
        var received = [Bool](repeating: true, count: signal.frames)
        for gap in pattern.gaps { for frame in gap.start..<min(gap.start + gap.length, signal.frames) { received[frame] = false } }
        // What the predictor may read before a gap: frames received or predicted (as the player's
        // concealment worker keeps its last predictions), not silence; at most `history`.
        var known = received
        func receivedRun(endingAt end: Int) -> Int {
            var start = end
            while start > 0 && end - start < history && known[start - 1] { start -= 1 }
            return end - start
        }
        func receivedRun(startingAt start: Int) -> Int {
            var end = start
            while end < signal.frames && end - start < history && received[end] { end += 1 }
            return end - start
        }
        for gap in pattern.gaps where gap.start < signal.frames {
            let length = min(gap.length, signal.frames - gap.start)
            let target = gap.start * channels
            switch method {
            case .silence:
                for index in 0..<(length * channels) { output[target + index] = 0 }
            case .repeatLast:
                for index in 0..<(length * channels) {
                    let source = target + index - LossPattern.frameLength * channels
                    output[target + index] = source >= 0 ? output[source] : 0
                }
            case .forward, .twoSided:
                let before = receivedRun(endingAt: gap.start)
                let after = receivedRun(startingAt: gap.start + length)
                if method == .twoSided && length <= limit && after > 0 {
                    output.withUnsafeMutableBufferPointer { samples in
                        let base = samples.baseAddress!
                        _ = prediction.withUnsafeMutableBufferPointer {
                            concealer.bridge(before: base + (gap.start - before) * channels, beforeFrames: before,
                                             after: base + (gap.start + length) * channels, afterFrames: after, gap: length, crossfade: crossfade, into: $0.baseAddress!)
                        }
                    }
                    for index in 0..<(length * channels) { output[target + index] = prediction[index] }
                    for frame in gap.start..<(gap.start + length) { known[frame] = true }
                    continue
                }
                // Forward: the prediction as far as the limit, fading out before it; crossfaded
                // into the audio after the gap (from silence, past the limit).
                let predicted = min(limit, length + crossfade)
                output.withUnsafeMutableBufferPointer { samples in
                    let base = samples.baseAddress!
                    prediction.withUnsafeMutableBufferPointer {
                        concealer.continueForward(history: base + (gap.start - before) * channels, historyFrames: before,
                                                  count: predicted, into: $0.baseAddress!)
                        if predicted > limit - fade {
                            GapConcealer.fadeOut($0.baseAddress! + (limit - fade) * channels, frames: predicted - (limit - fade), channels: channels)
                        }
                    }
                }
                for index in 0..<(min(length, predicted) * channels) { output[target + index] = prediction[index] }
                for index in (min(length, predicted) * channels)..<(length * channels) { output[target + index] = 0 }
                for frame in gap.start..<(gap.start + min(length, limit - fade)) { known[frame] = true }
                let resume = gap.start + length
                for frame in 0..<min(crossfade, signal.frames - resume) {
                    let weight = Float(GapConcealer.forwardWeight(frame, of: crossfade))
                    let predictedIndex = length + frame
                    for channel in 0..<channels {
                        let guess = predictedIndex < predicted ? prediction[predictedIndex * channels + channel] : 0
                        let sample = (resume + frame) * channels + channel
                        output[sample] = weight * guess + (1 - weight) * output[sample]
                    }
                }
            }
        }
        return output
    }
}
