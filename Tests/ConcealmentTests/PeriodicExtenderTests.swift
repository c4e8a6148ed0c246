import Concealment
import ConcealmentMeasurement
import Foundation
import Testing

struct PeriodicExtenderTests {
    @Test func aHarmonicToneIsContinuedAtItsFractionalPeriod() throws {
        // 48 000 / 187.3 Hz = 256.27 frames a period: not a whole number.
        let frequency = 187.3, history = 1_920, count = 480
        let samples = (0..<(history + count)).flatMap { index -> [Float] in
            let phase = 2 * Double.pi * frequency * Double(index) / 48_000
            let value = Float(0.4 * sin(phase) + 0.2 * sin(3 * phase + 0.5) + 0.1 * sin(7 * phase))
            return [value, 0.5 * value]
        }
        let extender = PeriodicExtender(channels: 2, shortestPeriod: 48, longestPeriod: 960, maximumHistory: history, maximumCount: count)
        var predicted = [Float](repeating: 0, count: count * 2)
        let found = samples.withUnsafeBufferPointer { buffer in
            guard extender.find(history: buffer.baseAddress!, frames: history) else { return false }
            predicted.withUnsafeMutableBufferPointer { extender.extend(history: buffer.baseAddress!, frames: history, count: count, into: $0.baseAddress!) }
            return true
        }
        #expect(found)
        #expect(abs(extender.period - 48_000 / frequency) < 0.05, "period \(extender.period)")
        let snr = BurgPredictorTests.snr(predicted, Array(samples[(history * 2)...]))
        #expect(snr > 35, "SNR \(snr) dB")
    }

    @Test func noiseHasNoPeriod() {
        let noise = TestSignal.noise(seconds: 0.1)
        let extender = PeriodicExtender(channels: 2, shortestPeriod: 48, longestPeriod: 960, maximumHistory: 1_920, maximumCount: 480)
        let found = noise.samples.withUnsafeBufferPointer { extender.find(history: $0.baseAddress!, frames: 1_920) }
        #expect(!found, "similarity \(extender.similarity)")
    }
}
