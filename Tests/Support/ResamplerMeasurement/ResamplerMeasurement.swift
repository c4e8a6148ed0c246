import Foundation
import Realtime

/// How a resampler is measured, shared by its tests and its benchmark: a signal through an engine
/// in 256-frame periods as the playback thread feeds it, and THD+N of the result.
public enum ResamplerMeasurement {
    /// Sine frequencies (Hz, at 48 kHz) across the band, and the drift lock's ratios, at which the
    /// engines' THD+N is compared: by the tests (asserted) and by the benchmark (printed).
    public static let bandFrequencies = [1_000.0, 5_000, 10_000, 15_000, 19_000]
    public static let driftRatios = [1 + 200e-6, 1 - 1_000e-6]

    /// Resamples `input` (mono) at `ratio` in 256-frame periods, as playback does.
    public static func resample(_ input: [Float], ratio: Double, engine: StreamResampler.Engine? = nil) -> [Float] {
        let resampler = StreamResampler(channels: 1)
        resampler.reset(engine: engine ?? .init(nominalRatio: ratio))
        var output: [Float] = []
        var period = [Float](repeating: 0, count: 256)
        var fed = 0
        while true {
            let result = input.withUnsafeBufferPointer { source in
                period.withUnsafeMutableBufferPointer {
                    resampler.process(input: source.baseAddress! + fed, inputFrames: min(512, input.count - fed), output: $0.baseAddress!,
                                      outputFrames: 256, ratio: ratio)
                }
            }
            guard result.produced > 0 else { break }
            fed += result.consumed
            output += period[0..<result.produced]
        }
        return output
    }

    /// THD+N in dB: the residual after the best-fitting sine of `frequency` (cycles per sample), against that sine.
    public static func thdPlusNoise(_ signal: ArraySlice<Float>, frequency: Double) -> Double {
        var sums = [Double](repeating: 0, count: 9)  // normal equations for a·sin + b·cos + c
        var rhs = [Double](repeating: 0, count: 3)
        for (offset, value) in signal.enumerated() {
            let phase = 2 * Double.pi * frequency * Double(offset)
            let basis = [sin(phase), cos(phase), 1.0]
            for row in 0..<3 {
                rhs[row] += basis[row] * Double(value)
                for column in 0..<3 { sums[row * 3 + column] += basis[row] * basis[column] }
            }
        }
        // Solve the 3×3 system by Cramer's rule.
        func determinant(_ m: [Double]) -> Double {
            m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
        }
        let base = determinant(sums)
        let coefficients = (0..<3).map { column -> Double in
            var replaced = sums
            for row in 0..<3 { replaced[row * 3 + column] = rhs[row] }
            return determinant(replaced) / base
        }
        var residual = 0.0, fitted = 0.0
        for (offset, value) in signal.enumerated() {
            let phase = 2 * Double.pi * frequency * Double(offset)
            let model = coefficients[0] * sin(phase) + coefficients[1] * cos(phase)
            fitted += model * model
            residual += pow(Double(value) - model - coefficients[2], 2)
        }
        return 10 * log10(residual / fitted)
    }

    /// A sine of `hertz` at 48 kHz through `ratio`: THD+N of the output in dB.
    public static func sineThroughRatio(_ hertz: Double, ratio: Double, engine: StreamResampler.Engine) -> Double {
        let input = (0..<96_000).map { Float(0.5 * sin(2 * Double.pi * hertz * Double($0) / 48_000)) }
        let output = resample(input, ratio: ratio, engine: engine)
        return thdPlusNoise(output[4_800..<52_800], frequency: hertz / 48_000 / ratio)
    }
}
