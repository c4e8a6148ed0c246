import Foundation
import Playback

// `make bench`: the playback thread's resampling, engine by engine, as a stream is played — a
// 48 kHz stereo stream in 256-frame periods at a ratio the drift lock moves every period around
// 1 + 200 ppm. Reported: nanoseconds per output frame (best of five passes) and what that is as a
// share of one core for one 48 kHz stream; libsamplerate's SINC_FASTEST (the engine before the
// polyphase one) is the baseline, measured in the same run on the same input. Their THD+N is a
// test (`StreamResamplerTests`), not measured here.

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

print("Resampling one 48 kHz stereo stream, 256-frame periods, ratio 1 + 200 ppm moving every period (best of 5 passes of \(periods * period / 48_000) s)")
var baseline = 0.0
for (engine, name) in [(StreamResampler.Engine.libsamplerate, "libsamplerate SINC_FASTEST (baseline)"), (.polyphase, "polyphase (40 taps, SIMD)")] {
    let seconds = (0..<5).map { _ in pass(engine) }.min()!
    let perFrame = seconds / Double(periods * period) * 1e9
    let share = seconds / (Double(periods * period) / 48_000) * 100
    if engine == .libsamplerate { baseline = perFrame }
    print(String(format: "%-40@ %7.1f ns per frame   %5.3f %% of a core per stream   %4.2f× the baseline's speed", name as NSString, perFrame, share,
                 baseline / perFrame))
}
