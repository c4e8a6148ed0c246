import Concealment
import Foundation
import Testing

struct BurgPredictorTests {
    /// Signal to error of `predicted` against `wanted`, in dB.
    static func snr(_ predicted: [Float], _ wanted: [Float]) -> Double {
        var signal = 0.0, error = 0.0
        for (got, want) in zip(predicted, wanted) {
            signal += Double(want) * Double(want)
            error += Double(got - want) * Double(got - want)
        }
        return 10 * log10(signal / max(error, 1e-30))
    }

    @Test func twoSinesAreContinuedForTenMilliseconds() {
        let total = 2_400, history = 1_920
        let signal = (0..<total).map { index -> Float in
            let time = Double(index) / 48_000
            return Float(0.5 * sin(2 * .pi * 440 * time) + 0.3 * sin(2 * .pi * 1_234 * time + 1))
        }
        let predictor = BurgPredictor(maximumOrder: 32, maximumWindow: history)
        var predicted = [Float](repeating: 0, count: total - history)
        let fitted = signal.withUnsafeBufferPointer { samples in
            predictor.fit(samples.baseAddress!, count: history, stride: 1)
            return predicted.withUnsafeMutableBufferPointer {
                predictor.extrapolate(history: samples.baseAddress!, historyCount: history, historyStride: 1,
                                      count: total - history, into: $0.baseAddress!, stride: 1, limit: 2)
            }
        }
        #expect(fitted)
        let snr = Self.snr(predicted, Array(signal[history...]))
        #expect(snr > 40, "SNR \(snr) dB")
    }
}
