import Foundation
import Playback
import Testing

@Suite struct StreamResamplerTests {
    /// Resamples `input` (mono) at `ratio` in 256-frame periods, as playback does.
    static func resample(_ input: [Float], ratio: Double) -> [Float] {
        let resampler = StreamResampler(channels: 1)
        var output: [Float] = []
        var period = [Float](repeating: 0, count: 256)
        var fed = 0
        while fed < input.count - 1_024 {
            let result = input.withUnsafeBufferPointer { source in
                period.withUnsafeMutableBufferPointer {
                    resampler.process(input: source.baseAddress! + fed, inputFrames: min(512, input.count - fed), output: $0.baseAddress!,
                                      outputFrames: 256, ratio: ratio)
                }
            }
            fed += result.consumed
            output += period[0..<result.produced]
        }
        return output
    }

    /// THD+N in dB: the residual after the best-fitting sine of `frequency` (cycles per sample), against that sine.
    static func thdPlusNoise(_ signal: ArraySlice<Float>, frequency: Double) -> Double {
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

    @Test func aSineThroughA200PPMRatioKeepsTHDPlusNoiseBelowMinus90dB() {
        let input = (0..<96_000).map { Float(0.5 * sin(2 * Double.pi * 1_000 * Double($0) / 48_000)) }
        let ratio = 1 + 200e-6
        let output = Self.resample(input, ratio: ratio)
        let thd = Self.thdPlusNoise(output[4_800..<52_800], frequency: 1_000 / 48_000 / ratio)
        #expect(thd < -90, "THD+N \(thd) dB")
    }

    @Test func aRatioOfOneDelaysNothingAndTheLookAheadIsSmall() {
        #expect(abs(StreamResampler.delay) < 0.01)
        #expect((1...256).contains(StreamResampler.lookAhead))
    }

    @Test func fortyFourPointOneKilohertzBecomesFortyEight() {
        let input = (0..<88_200).map { Float(0.5 * sin(2 * Double.pi * 440 * Double($0) / 44_100)) }
        let output = Self.resample(input, ratio: 48_000.0 / 44_100)
        let expectedCount: Double = 88_200.0 * 48_000 / 44_100
        #expect(abs(Double(output.count) - expectedCount) < 1_500)
        #expect(Self.thdPlusNoise(output[4_800..<48_000], frequency: 440.0 / 48_000) < -90)
    }
}
