import Foundation
import Realtime
import ResamplerMeasurement

// `make bench`: the playback thread's resampling, engine by engine, as a stream is played — a
// 48 kHz stereo stream in 256-frame periods at a ratio the drift lock moves every period around
// 1 + 200 ppm. Reported: nanoseconds per output frame (best of five passes) and what that is as a
// share of one core for one 48 kHz stream; libsamplerate's SINC_FASTEST (the engine before the
// polyphase one) is the baseline, measured in the same run on the same input. Then THD+N of a
// sine through both, across the band, at the drift lock's ratios (`StreamResamplerTests` asserts
// on the same figures).

let channels = 2
let period = 256
let periods = 4_000  // 21 s of audio a pass
let input = (0..<(periods * period + 4_096) * channels).map { Float(0.5 * sin(Double($0 / channels) * 0.13)) }

/// Seconds to play `periods` periods through `engine`, the ratio moving as the drift lock moves it.
func pass(_ engine: StreamResampler.Engine) -> Double {
    var output = [Float](repeating: 0, count: period * channels)
    let resampler = StreamResampler(channels: channels)
    resampler.reset(engine: engine)
    var fed = 0
    let start = DispatchTime.now().uptimeNanoseconds
    input.withUnsafeBufferPointer { source in
        output.withUnsafeMutableBufferPointer { out in
            for call in 0..<periods {
                let ratio = 1 + 200e-6 + 50e-6 * sin(Double(call) * 0.01)
                let wanted = Int(Double(period) / ratio) + resampler.lookAhead + 1
                let result = resampler.process(input: source.baseAddress! + fed * channels, inputFrames: wanted, output: out.baseAddress!,
                                               outputFrames: period, ratio: ratio)
                precondition(result.produced == period, "\(engine) made \(result.produced) of \(period) frames")
                fed += result.consumed
            }
        }
    }
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

print("Resampling one 48 kHz stereo stream, 256-frame periods, ratio 1 + 200 ppm moving every period (best of 5 passes over \(periods * period / 48_000) s of audio)")
var baseline = 0.0
for (engine, name) in [(StreamResampler.Engine.libsamplerate, "libsamplerate SINC_FASTEST (baseline)"), (.polyphase, "polyphase (40 taps, SIMD)")] {
    let seconds = (0..<5).map { _ in pass(engine) }.min()!
    let perFrame = seconds / Double(periods * period) * 1e9
    let share = seconds / (Double(periods * period) / 48_000) * 100
    if engine == .libsamplerate { baseline = perFrame }
    print(name.padding(toLength: 40, withPad: " ", startingAt: 0)
        + String(format: " %5.1f ns per frame   %5.3f %% of a core per stream   %4.2f× the baseline's speed", perFrame, share, baseline / perFrame))
}

print("\nTHD+N of a 0.5-amplitude sine at 48 kHz through each engine, dB (lower is cleaner)")
print("            ratio 1 + 200 ppm               ratio 1 − 1000 ppm")
print("            polyphase   libsamplerate       polyphase   libsamplerate")
for hertz in ResamplerMeasurement.bandFrequencies {
    let figures = ResamplerMeasurement.driftRatios.flatMap { ratio in
        [StreamResampler.Engine.polyphase, .libsamplerate].map { ResamplerMeasurement.sineThroughRatio(hertz, ratio: ratio, engine: $0) }
    }
    print(String(format: "%6.0f Hz   %8.1f   %8.1f            %8.1f   %8.1f", hertz, figures[0], figures[1], figures[2], figures[3]))
}
