import Buffer
import Concealment
import ConcealmentMeasurement
import Core
import Testing

struct GapConcealerTests {
    /// Floors at 5 % loss of 10 ms frames, random and in bursts of 2–3, a few dB under what
    /// these 5 s takes score (and `make bench`'s 20 s ones: BENCHMARKS.md, "Loss concealment"):
    /// SNR over the lost spans, forward-only and two-sided.
    static let floors: [(signal: TestSignal, random: (forward: Double, twoSided: Double), bursts: (forward: Double, twoSided: Double))] = [
        (.vibratoTone(seconds: 5), (11, 17), (5, 10)),
        (.chord(seconds: 5), (12, 15), (13, 18)),
        (.pluckedTone(seconds: 5), (2, 7), (25, 22)),
    ]

    @Test(arguments: 0..<3)
    func tonalSignalsAreConcealedWellAboveSilence(_ index: Int) {
        let (signal, random, bursts) = Self.floors[index]
        let frames = signal.frames / LossPattern.frameLength
        for (pattern, floors) in [(LossPattern.random(0.05, frames: frames), random), (.bursts(0.05, frames: frames), bursts)] {
            for (method, floor) in [(ConcealmentSimulation.Method.forward, floors.forward), (.twoSided, floors.twoSided)] {
                let output = ConcealmentSimulation.play(signal, losing: pattern, with: method)
                let score = ConcealmentScore(output: output, reference: signal.samples, gaps: pattern.gaps, channels: TestSignal.channels)
                #expect(score.lostSpanSNR >= floor, "\(signal.name), \(pattern.name), \(method.rawValue): \(score.lostSpanSNR) dB")
            }
        }
    }

    @Test func noiseIsNotMadeLouder() {
        Self.expectNoRunaway(.noise(seconds: 5))
    }

    @Test(.enabled(if: TestSignal.speechToolsInstalled, "espeak-ng or sox is not installed (make test installs them)"))
    func speechIsNotMadeLouderNorWorseThanSilence() throws {
        let speech = try TestSignal.speech().get()
        Self.expectNoRunaway(speech)
    }

    /// Over the lost spans of 5 % random loss: no louder than the original (+1 dB) and no
    /// further from it than silence is.
    static func expectNoRunaway(_ signal: TestSignal) {
        let pattern = LossPattern.random(0.05, frames: signal.frames / LossPattern.frameLength)
        for method in [ConcealmentSimulation.Method.forward, .twoSided] {
            let output = ConcealmentSimulation.play(signal, losing: pattern, with: method)
            let score = ConcealmentScore(output: output, reference: signal.samples, gaps: pattern.gaps, channels: TestSignal.channels)
            #expect(score.levelChange <= 1, "\(signal.name), \(method.rawValue): \(score.levelChange) dB louder")
            #expect(score.lostSpanSNR >= -0.5, "\(signal.name), \(method.rawValue): \(score.lostSpanSNR) dB")
        }
    }

    /// No step between neighbouring samples larger than the signal's own largest, where a gap
    /// begins, inside it, and where the audio resumes.
    @Test(arguments: [ConcealmentSimulation.Method.forward, .twoSided])
    func concealedGapsJoinTheAudioWithoutSteps(_ method: ConcealmentSimulation.Method) {
        for signal in [TestSignal.vibratoTone(seconds: 3), .chord(seconds: 3)] {
            let pattern = LossPattern.random(0.05, frames: signal.frames / LossPattern.frameLength)
            let output = ConcealmentSimulation.play(signal, losing: pattern, with: method)
            #expect(Self.largestStep(output) <= Self.largestStep(signal.samples) * 1.1,
                    "\(signal.name): \(Self.largestStep(output)) beside \(Self.largestStep(signal.samples))")
        }
    }

    @Test func aGapLongerThanTheLimitFadesToSilenceByIt() {
        let signal = TestSignal.vibratoTone(seconds: 2)
        var lost = [Bool](repeating: false, count: signal.frames / LossPattern.frameLength)
        for frame in 100..<110 { lost[frame] = true }  // 100 ms
        let pattern = LossPattern(name: "100 ms", lost: lost)
        let settings = ConcealmentSettings.standard
        let rate = SampleRate(hertz: TestSignal.rate)
        let limit = ConcealmentSettings.frames(settings.limit, at: rate), fade = ConcealmentSettings.frames(settings.fade, at: rate)
        for method in [ConcealmentSimulation.Method.forward, .twoSided] {
            let output = ConcealmentSimulation.play(signal, losing: pattern, with: method)
            let start = 100 * LossPattern.frameLength
            func rms(_ frames: Range<Int>) -> Double {
                var sum = 0.0
                for index in (frames.lowerBound * 2)..<(frames.upperBound * 2) { sum += Double(output[index]) * Double(output[index]) }
                return (sum / Double(frames.count * 2)).squareRoot()
            }
            #expect(rms(start..<(start + limit - fade)) > 0.1, "\(method.rawValue): predicted up to the fade")
            #expect(rms((start + limit)..<(start + 4_800)) == 0, "\(method.rawValue): silence after the limit")
            let fading = rms((start + limit - fade)..<(start + limit - fade / 2)), faded = rms((start + limit - fade / 2)..<(start + limit))
            #expect(faded < fading, "\(method.rawValue): the fade falls")
        }
    }

    @Test func aGapWithNoAudioBeforeItIsSilence() {
        let concealer = GapConcealer(channels: 2, rate: 48_000, maximumGap: 480, order: 16, window: 960)
        var output = [Float](repeating: 1, count: 960)
        let silence = [Float](repeating: 0, count: 1_920)
        let continued = silence.withUnsafeBufferPointer { history in
            output.withUnsafeMutableBufferPointer { concealer.continueForward(history: history.baseAddress!, historyFrames: 960, count: 480, into: $0.baseAddress!) }
        }
        #expect(!continued)
        #expect(output.allSatisfy { $0 == 0 })
    }

    /// Any rate a stream may have, however low, and any history length make a concealer that works.
    @Test(arguments: [1, 7, 800, 768_000])
    func everyRateMakesAConcealer(_ rate: Int) {
        let settings = ConcealmentSettings.standard
        let sampleRate = SampleRate(hertz: rate)
        let gap = ConcealmentSettings.frames(settings.limit, at: sampleRate)
        let concealer = GapConcealer(channels: 1, rate: rate, maximumGap: gap, order: settings.order,
                                     window: ConcealmentSettings.frames(settings.history, at: sampleRate))
        let history = [Float](repeating: 0.5, count: 4_000)
        var output = [Float](repeating: 0, count: gap)
        for frames in [0, 1, 3, 4_000] {
            _ = history.withUnsafeBufferPointer { source in
                output.withUnsafeMutableBufferPointer {
                    concealer.bridge(before: source.baseAddress!, beforeFrames: frames, after: source.baseAddress!, afterFrames: frames,
                                     gap: gap, crossfade: 2, into: $0.baseAddress!)
                }
            }
            #expect(output.allSatisfy { $0.isFinite && abs($0) <= 1 })
        }
    }

    static func largestStep(_ samples: [Float]) -> Float {
        var largest: Float = 0
        for index in 2..<samples.count { largest = max(largest, abs(samples[index] - samples[index - 2])) }
        return largest
    }
}
