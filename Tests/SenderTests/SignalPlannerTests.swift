import Core
import Foundation
import Sender
import Testing

@Suite struct SignalPlannerTests {
    /// A stream clock whose reported GPU clock is 3 s ahead of the CPU and 300 ppm fast.
    static func skewedClock(start: Nanoseconds = .seconds(1000)) -> StreamClock {
        let reading = CalibrationReading(gpu: start.rawValue, cpu: start, maxDeviation: 0, origin: .sender)
        let model = SenderClockModel(knobs: GPUClockKnobs(offset: .seconds(3), skewPartsPerMillion: 300), firstReading: reading)
        return StreamClock(model: model, samples: SampleClock(start: model.reportedGPU(atCPU: start + .milliseconds(7)), rate: .standard))
    }

    static func render(_ planner: SignalPlanner, first: Int64, count: Int, channels: Int = 1, clock: StreamClock = skewedClock()) -> [Float] {
        var samples = [Float](repeating: .nan, count: count * channels)
        samples.withUnsafeMutableBufferPointer {
            CPUSignalRenderer.render(planner.parameters(first: first, count: count, clock: clock), fileSamples: [], into: $0)
        }
        return samples
    }

    @Test func aSineStaysOnItsExactPhaseForDaysOfSamples() throws {
        let planner = try SignalPlanner(signal: .sine(frequency: 997, amplitude: 0.5), rate: .standard, channels: .mono, framesPerMessage: 480, seed: 1)
        let step = (997.0 / 48_000 * 0x1p32).rounded()  // the fixed-point step the planner uses
        for first in [0, 480, 48_000 * 86_400 * 3, (1 << 40) + 17] as [Int64] {
            let samples = Self.render(planner, first: first, count: 480)
            for (offset, sample) in samples.enumerated() {
                let cycles = (Double(UInt64(first + Int64(offset)) &* UInt64(step) & 0xFFFF_FFFF)) / 0x1p32
                #expect(abs(Double(sample) - 0.5 * sin(2 * .pi * cycles)) <= 1e-6, "sample \(first + Int64(offset))")
            }
        }
    }

    @Test func sineAndChirpPhasesContinueAcrossFrameBoundaries() throws {
        for signal in [Signal.sine(frequency: 1234.5, amplitude: 1), .chirp(start: 20, end: 20_000, duration: .seconds(2), amplitude: 1)] {
            let planner = try SignalPlanner(signal: signal, rate: .standard, channels: .mono, framesPerMessage: 480, seed: 1)
            for first in stride(from: Int64(0), to: 48_000 * 2, by: 480 * 17) {
                // Rendering 481 samples from one frame's parameters reaches the next frame's first sample.
                let long = Self.render(planner, first: first, count: 481)
                let next = Self.render(planner, first: first + 480, count: 1)
                #expect(abs(long[480] - next[0]) <= 1e-6, "\(signal) at \(first + 480)")
            }
        }
    }

    @Test func aChirpSweepsUpAndRestarts() throws {
        let planner = try SignalPlanner(signal: .chirp(start: 100, end: 10_000, duration: .seconds(1), amplitude: 1), rate: .standard,
                                        channels: .mono, framesPerMessage: 480, seed: 1)
        let clock = Self.skewedClock()
        let steps = stride(from: Int64(0), to: 96_000, by: 480).map { planner.parameters(first: $0, count: 480, clock: clock).phaseStep }
        let hertz = steps.map { Double($0) / 0x1p32 * 48_000 }
        #expect(abs(hertz[0] - 100) < 0.01)
        #expect(abs(hertz[99] - (100 + 9_900 * 0.99)) < 1)
        #expect(zip(hertz[0..<99], hertz[1..<100]).allSatisfy { $0 < $1 })
        #expect(abs(hertz[100] - 100) < 0.01)  // the second sweep
    }

    @Test func noiseIsUniformIndependentPerChannelAndRepeatsForItsSeed() throws {
        let planner = try SignalPlanner(signal: .noise(amplitude: 0.5), rate: .standard, channels: ChannelCount(2), framesPerMessage: 4800, seed: 9)
        let samples = Self.render(planner, first: 0, count: 4800, channels: 2)
        let left = stride(from: 0, to: samples.count, by: 2).map { samples[$0] }
        let right = stride(from: 1, to: samples.count, by: 2).map { samples[$0] }
        #expect(samples.allSatisfy { abs($0) <= 0.5 })
        #expect(abs(left.reduce(0, +) / Float(left.count)) < 0.02)
        let variance: Float = left.map { $0 * $0 }.reduce(0, +) / Float(left.count)
        #expect(abs(variance - 0.25 / 3) < 0.005)  // variance of U(−a, a) = a²/3
        #expect(zip(left, right).filter { $0 == $1 }.count < 5)
        #expect(samples == Self.render(planner, first: 0, count: 4800, channels: 2))
        let otherSeed = try SignalPlanner(signal: .noise(amplitude: 0.5), rate: .standard, channels: ChannelCount(2), framesPerMessage: 4800, seed: 10)
        #expect(samples != Self.render(otherSeed, first: 0, count: 4800, channels: 2))
    }

    @Test func impulsesLandOnTheSampleNearestEachMultipleOfThePeriodOnTheCPUClock() throws {
        let period = Nanoseconds.milliseconds(7)
        let planner = try SignalPlanner(signal: .impulse(period: period), rate: .standard, channels: .mono, framesPerMessage: 480, seed: 1)
        let clock = Self.skewedClock()
        var impulses: [Int64] = []
        for first in stride(from: Int64(0), to: 48_000 * 3, by: 480) {
            let samples = Self.render(planner, first: first, count: 480, clock: clock)
            impulses += samples.indices.filter { samples[$0] == 1 }.map { first + Int64($0) }
            #expect(samples.allSatisfy { $0 == 0 || $0 == 1 })
        }
        // One impulse per period, none lost or doubled at frame boundaries (3 s at 7 ms, ±1 at the ends).
        #expect(abs(impulses.count - 3_000 / 7) <= 1)
        let halfSample = 1e9 / 48_000 / 2
        for index in impulses {
            let time = Double(clock.cpuTime(ofSample: index).rawValue)
            let nearestMultiple = (time / Double(period.rawValue)).rounded() * Double(period.rawValue)
            #expect(abs(time - nearestMultiple) <= halfSample + 1, "impulse at sample \(index) is \(time - nearestMultiple) ns off the grid")
        }
    }
}
