import Foundation
import Realtime
import ResamplerMeasurement
import Testing

@Suite struct StreamResamplerTests {
    @Test(arguments: [StreamResampler.Engine.polyphase, .libsamplerate])
    func aSineThroughA200PPMRatioKeepsTHDPlusNoiseBelowMinus90dB(engine: StreamResampler.Engine) {
        let thd = ResamplerMeasurement.sineThroughRatio(1_000, ratio: 1 + 200e-6, engine: engine)
        #expect(thd < -90, "THD+N \(thd) dB")
    }

    /// Why the drift lock uses its own resampler rather than libsamplerate (besides speed): THD+N
    /// below −100 dB across the band at the drift lock's ratios, and at its worst less than
    /// libsamplerate's at its worst.
    @Test func thePolyphaseResamplerIsCleanerThanLibsamplerateAtItsWorst() {
        var worst = (polyphase: -200.0, libsamplerate: -200.0)
        for hertz in ResamplerMeasurement.bandFrequencies {
            for ratio in ResamplerMeasurement.driftRatios {
                let polyphase = ResamplerMeasurement.sineThroughRatio(hertz, ratio: ratio, engine: .polyphase)
                #expect(polyphase < -100, "\(hertz) Hz at ratio \(ratio): THD+N \(polyphase) dB")
                worst.polyphase = max(worst.polyphase, polyphase)
                worst.libsamplerate = max(worst.libsamplerate, ResamplerMeasurement.sineThroughRatio(hertz, ratio: ratio, engine: .libsamplerate))
            }
        }
        #expect(worst.polyphase < worst.libsamplerate, "worst THD+N: polyphase \(worst.polyphase) dB, libsamplerate \(worst.libsamplerate) dB")
    }

    @Test func aRatioOfOneCopiesTheInputExactlyChannelByChannel() {
        // Stereo, the channels different, so that a mixed-up plane would show.
        let input = (0..<4_096).flatMap { [Float(sin(Double($0) * 0.37)), Float(cos(Double($0) * 0.11))] }
        var output = [Float](repeating: 0, count: 4_000 * 2)
        let resampler = StreamResampler(channels: 2)
        resampler.reset(engine: .polyphase)
        let produced = output.withUnsafeMutableBufferPointer {
            resampler.process(input: input, inputFrames: 4_096, output: $0.baseAddress!, outputFrames: 4_000, ratio: 1).produced
        }
        #expect(produced == 4_000)
        #expect(output.elementsEqual(input.prefix(output.count)), "the first difference: \(zip(output, input).enumerated().first { $1.0 != $1.1 }.map { "\($0)" } ?? "none")")
    }

    /// PlaybackStream counts its position by the mean of each call's ratio ramp and the engine's
    /// delay: both engines must play the same signal, to the sample, while the ratio moves every call.
    @Test func bothEnginesPlayTheSameSignalWhileTheRatioMoves() {
        let input = (0..<48_000).map { Float(0.5 * sin(Double($0) * 0.05)) }
        var outputs: [[Float]] = []
        for engine in [StreamResampler.Engine.polyphase, .libsamplerate] {
            let resampler = StreamResampler(channels: 1)
            resampler.reset(engine: engine)
            var output = [Float](repeating: 0, count: 150 * 256)
            var fed = 0
            for call in 0..<150 {
                let ratio = 1 + 0.002 * sin(Double(call) * 0.3)
                let result = input.withUnsafeBufferPointer { source in
                    output.withUnsafeMutableBufferPointer {
                        resampler.process(input: source.baseAddress! + fed, inputFrames: 300, output: $0.baseAddress! + call * 256,
                                          outputFrames: 256, ratio: ratio)
                    }
                }
                #expect(result.produced == 256)
                fed += result.consumed
            }
            outputs.append(output)
        }
        let difference = zip(outputs[0], outputs[1]).dropFirst(1_000).map { abs($0 - $1) }.max() ?? 1
        #expect(difference < 1e-3, "largest difference \(difference)")
    }

    @Test func theEngineIsChosenByTheNominalRatio() {
        #expect(StreamResampler.Engine(nominalRatio: 1) == .polyphase)
        #expect(StreamResampler.Engine(nominalRatio: 48_000.0 / 44_100) == .polyphase)
        #expect(StreamResampler.Engine(nominalRatio: 0.5) == .libsamplerate)
    }

    @Test func ninetySixKilohertzBecomesFortyEightThroughLibsamplerate() {
        let input = (0..<192_000).map { Float(0.5 * sin(2 * Double.pi * 1_000 * Double($0) / 96_000)) }
        let output = ResamplerMeasurement.resample(input, ratio: 0.5)
        #expect(abs(Double(output.count) - 96_000) < 1_500)
        #expect(ResamplerMeasurement.thdPlusNoise(output[4_800..<48_000], frequency: 1_000.0 / 48_000) < -90)
    }

    @Test(arguments: [StreamResampler.Engine.polyphase, .libsamplerate])
    func aRatioOfOneDelaysNothingAndTheLookAheadIsSmall(engine: StreamResampler.Engine) {
        let resampler = StreamResampler(channels: 2)
        resampler.reset(engine: engine)
        #expect(abs(resampler.delay) < 0.01)
        #expect((1...256).contains(resampler.lookAhead))
    }

    @Test func fortyFourPointOneKilohertzBecomesFortyEight() {
        let input = (0..<88_200).map { Float(0.5 * sin(2 * Double.pi * 440 * Double($0) / 44_100)) }
        let output = ResamplerMeasurement.resample(input, ratio: 48_000.0 / 44_100)
        let expectedCount: Double = 88_200.0 * 48_000 / 44_100
        #expect(abs(Double(output.count) - expectedCount) < 1_500)
        #expect(ResamplerMeasurement.thdPlusNoise(output[4_800..<48_000], frequency: 440.0 / 48_000) < -90)
    }
}
