import Clock
import Core
import Testing

/// GPU → CPU calibration: the single-block rule, drift, jitter, jumps, wraps, units.
@Suite struct SessionCalibrationTests {
    let second: Int64 = 1_000_000_000
    let start: Int64 = 1_000_000_000_000

    @Test func theReferenceExampleLandsWhereTheProtocolSays() throws {
        var calibration = SessionCalibration()
        #expect(calibration.cpuTime(forGPUTimestamp: 1_701_234_600_000) == nil)
        #expect(calibration.add(CalibrationBlock(cpuTimestamp: 1_701_234_567_890, gpuTimestamp: 1_701_234_580_056), receivedAt: .zero) == .accepted)
        #expect(calibration.cpuTime(forGPUTimestamp: 1_701_234_600_000) == Nanoseconds(1_701_234_587_834))
        #expect(calibration.status.mode == .offsetOnly && calibration.status.offset == Nanoseconds(12_166))
    }

    @Test func aConstantOffsetIsExact() {
        let clock = SimulatedGPUClock()
        var calibration = SessionCalibration()
        for block in 0..<10 { calibration.add(clock.block(atCPU: start + Int64(block) * second), receivedAt: .zero) }
        #expect(calibration.worstError(clock, atCPU: stride(from: start, to: start + 12 * second, by: 10_000_000)) <= 1)
        #expect(calibration.status.offset == Nanoseconds(clock.offset) && abs(calibration.status.skewPPM) < 1e-6)
    }

    @Test(arguments: [500.0, -500.0, 200.0])
    func skewIsFittedSoFramesBetweenAndAfterBlocksAreOnTime(skewPPM: Double) {
        let clock = SimulatedGPUClock(skewPPM: skewPPM)
        var calibration = SessionCalibration()
        calibration.add(clock.block(atCPU: start), receivedAt: .zero)
        // With one block, a second later the error is the skew itself: why drift must be fitted.
        #expect(calibration.worstError(clock, atCPU: [start + second]) > Int64(abs(skewPPM) * 900))
        for block in 1..<20 { calibration.add(clock.block(atCPU: start + Int64(block) * second), receivedAt: .zero) }
        #expect(calibration.status.mode == .drift)
        #expect(abs(calibration.status.skewPPM - skewPPM) < 0.01)
        // Frames up to 1.5 s past the newest block (a block or so lost) are still on time.
        #expect(calibration.worstError(clock, atCPU: stride(from: start + 10 * second, to: start + 20 * second + second / 2 * 3, by: 7_000_000)) <= 5)
    }

    @Test func calibrationJitterAveragesOut() {
        let clock = SimulatedGPUClock(skewPPM: 200)
        var calibration = SessionCalibration()
        var random = SeededRandom(seed: 1)
        for block in 0..<60 {
            let error = Int64.random(in: -10_000...10_000, using: &random)
            calibration.add(clock.block(atCPU: start + Int64(block) * second, cpuError: error, maxDeviation: 10_000), receivedAt: .zero)
        }
        #expect(calibration.status.outliersRejected == 0)
        // One block's error is up to 10 µs; the fit over 60 of them is far closer.
        #expect(calibration.worstError(clock, atCPU: stride(from: start + 50 * second, to: start + 60 * second, by: 10_000_000)) < 3_000)
        #expect(abs(calibration.status.skewPPM - 200) < 0.2)
        #expect(calibration.status.residual.rawValue > 3_000 && calibration.status.residual.rawValue < 8_000)
    }

    @Test func blocksWithinTheirBoundPinTheLineCloserThanLeastSquares() {
        // The same jittered blocks, once with `max_deviation` (a bound on each block's error) and
        // once without (least squares alone), over 20 draws of the jitter: the bound narrows the
        // lines that fit like 1/N, least squares like 1/√N.
        let clock = SimulatedGPUClock(skewPPM: 200)
        var boundedErrors: [Int64] = [], unboundedErrors: [Int64] = []
        for seed in 1...20 {
            var bounded = SessionCalibration(), unbounded = SessionCalibration()
            var random = SeededRandom(seed: UInt64(seed))
            for block in 0..<40 {
                let error = Int64.random(in: -10_000...10_000, using: &random)
                bounded.add(clock.block(atCPU: start + Int64(block) * second, cpuError: error, maxDeviation: 10_000), receivedAt: .zero)
                unbounded.add(clock.block(atCPU: start + Int64(block) * second, cpuError: error), receivedAt: .zero)
            }
            let frames = Array(stride(from: start + 39 * second, to: start + 40 * second, by: 10_000_000))
            boundedErrors.append(bounded.worstError(clock, atCPU: frames))
            unboundedErrors.append(unbounded.worstError(clock, atCPU: frames))
        }
        let bounded = boundedErrors.reduce(0, +) / 20, unbounded = unboundedErrors.reduce(0, +) / 20
        #expect(bounded < 1_000 && bounded * 3 < unbounded * 2, "mean worst error: bounded \(bounded) ns, least squares \(unbounded) ns")
    }

    @Test func blocksBeyondTheirStatedBoundFallBackToLeastSquares() {
        // A sender that understates `max_deviation` (1 µs said, ±5 µs real): no line fits every
        // bound, so the fit is least squares, still good to a few microseconds.
        let clock = SimulatedGPUClock(skewPPM: -300)
        var calibration = SessionCalibration()
        var random = SeededRandom(seed: 5)
        for block in 0..<40 {
            let error = Int64.random(in: -5_000...5_000, using: &random)
            calibration.add(clock.block(atCPU: start + Int64(block) * second, cpuError: error, maxDeviation: 1_000), receivedAt: .zero)
        }
        #expect(calibration.status.mode == .drift)
        #expect(calibration.worstError(clock, atCPU: stride(from: start + 39 * second, to: start + 40 * second, by: 10_000_000)) < 4_000)
    }

    @Test func anOffsetJumpRelocksOnTheFirstBlockAfterIt() {
        var clock = SimulatedGPUClock(skewPPM: 100)
        var calibration = SessionCalibration()
        for block in 0..<10 { calibration.add(clock.block(atCPU: start + Int64(block) * second), receivedAt: .zero) }
        clock.offset += 3 * second  // GPU reset
        #expect(calibration.add(clock.block(atCPU: start + 10 * second), receivedAt: .zero) == .relocked)
        // Right after the jump: the new offset, and the drift fitted before it still holds.
        #expect(calibration.worstError(clock, atCPU: stride(from: start + 10 * second, to: start + 11 * second, by: 10_000_000)) <= 5)
        #expect(calibration.status.mode == .drift && abs(calibration.status.skewPPM - 100) < 0.01)
        #expect(calibration.add(clock.block(atCPU: start + 11 * second), receivedAt: .zero) == .accepted)
        for block in 12..<20 { calibration.add(clock.block(atCPU: start + Int64(block) * second), receivedAt: .zero) }
        #expect(calibration.worstError(clock, atCPU: stride(from: start + 19 * second, to: start + 20 * second, by: 10_000_000)) <= 5)
        // Eight blocks after the jump, the old segment has left the fit.
        #expect(calibration.status.relocks == 1 && calibration.status.blocksUsed == 10)
    }

    @Test func aSingleWildBlockIsAnOutlierNotAJump() {
        let clock = SimulatedGPUClock(skewPPM: -300)
        var calibration = SessionCalibration()
        for block in 0..<10 { calibration.add(clock.block(atCPU: start + Int64(block) * second), receivedAt: .zero) }
        #expect(calibration.add(clock.block(atCPU: start + 10 * second, cpuError: 50_000_000), receivedAt: .zero) == .relocked)
        #expect(calibration.add(clock.block(atCPU: start + 11 * second), receivedAt: .zero) == .accepted)
        #expect(calibration.status.relocks == 0 && calibration.status.outliersRejected == 1)
        #expect(calibration.worstError(clock, atCPU: stride(from: start + 11 * second, to: start + 12 * second, by: 10_000_000)) <= 5)
    }

    @Test func aModerateOutlierIsRejectedByTheRobustFit() {
        let clock = SimulatedGPUClock(skewPPM: 50)
        var calibration = SessionCalibration()
        var random = SeededRandom(seed: 2)
        var outcomes: [SessionCalibration.BlockOutcome] = []
        for block in 0..<30 {
            let error = block == 20 ? 300_000 : Int64.random(in: -1_000...1_000, using: &random)
            outcomes.append(calibration.add(clock.block(atCPU: start + Int64(block) * second, cpuError: error, maxDeviation: 1_000), receivedAt: .zero))
        }
        #expect(outcomes[20] == .outlier)
        #expect(calibration.status.outliersRejected == 1 && calibration.status.blocksUsed == 29)
        #expect(calibration.worstError(clock, atCPU: stride(from: start + 25 * second, to: start + 30 * second, by: 10_000_000)) < 1_000)
    }

    @Test(arguments: [32, 40])
    func narrowCountersUnwrapThroughManyWraps(bits: Int) {
        // A 32-bit nanosecond counter wraps every 4.3 s, a 40-bit one every 18.3 min: run through 5 wraps.
        let clock = SimulatedGPUClock(skewPPM: 150, bits: bits)
        let wrap = Int64(1) << bits
        let duration = 5 * wrap + 3 * second
        var calibration = SessionCalibration()
        var worst: Int64 = 0
        var cpu = start
        var nextBlock = start
        while cpu < start + duration {
            if cpu >= nextBlock {
                calibration.add(clock.block(atCPU: cpu), receivedAt: .zero)
                nextBlock += second
            }
            if let mapped = calibration.cpuTime(forGPUTimestamp: clock.reading(atCPU: cpu)) { worst = max(worst, abs(mapped.rawValue - cpu)) }
            cpu += bits == 32 ? 10_000_000 : 250_000_000
        }
        #expect(worst <= 160_000)  // the first second runs on the offset alone (150 ppm × 1 s)
        #expect(calibration.status.relocks == 0 && calibration.status.mode == .drift)
        #expect(calibration.worstError(clock, atCPU: stride(from: cpu - second, to: cpu, by: 10_000_000)) <= 5)
    }

    @Test func lostCalibrationBlocksLeaveTheDriftFitInCharge() {
        let clock = SimulatedGPUClock(skewPPM: 200)
        var calibration = SessionCalibration()
        for block in 0..<10 { calibration.add(clock.block(atCPU: start + Int64(block) * second), receivedAt: Nanoseconds(start + Int64(block) * second)) }
        // Three seconds without blocks: the extrapolated drift keeps frames on time.
        #expect(calibration.worstError(clock, atCPU: stride(from: start + 9 * second, to: start + 12 * second, by: 10_000_000)) <= 5)
        #expect(calibration.status.age(now: Nanoseconds(start + 12 * second)) == Nanoseconds.seconds(3))
    }

    @Test func framesOutOfOrderAndAroundTheNewestBlockUnwrapCorrectly() {
        // A 32-bit counter wraps every 4.3 s; frames reordered within 300 ms, before and after blocks.
        let clock = SimulatedGPUClock(skewPPM: 0, bits: 32)
        var calibration = SessionCalibration()
        var random = SeededRandom(seed: 3)
        var worst: Int64 = 0
        for block in 0..<20 {
            let blockTime = start + Int64(block) * second
            calibration.add(clock.block(atCPU: blockTime), receivedAt: .zero)
            for window in 0..<3 {
                let frames = (0..<30).map { blockTime - second / 2 + Int64(window * 30 + $0) * 10_000_000 }.shuffled(using: &random)
                worst = max(worst, calibration.worstError(clock, atCPU: frames))
            }
        }
        #expect(worst <= 1)
    }

    @Test func unitsAreConvertedExactly() {
        var micro = SessionCalibration()
        micro.add(CalibrationBlock(cpuTimestamp: 1_000, gpuTimestamp: 5_000, unit: .microseconds), receivedAt: .zero)
        #expect(micro.cpuTime(forGPUTimestamp: 5_500) == Nanoseconds(1_500_000))
        #expect(micro.cpuTime(forCPUTimestamp: 7) == Nanoseconds(7_000))
        var milli = SessionCalibration()
        milli.add(CalibrationBlock(cpuTimestamp: 2, gpuTimestamp: 10, unit: .milliseconds), receivedAt: .zero)
        #expect(milli.cpuTime(forGPUTimestamp: 11) == Nanoseconds(3_000_000))
        // 52.083… ns ticks (a 19.2 MHz counter); CPU times stay in nanoseconds.
        var ticks = SessionCalibration()
        let period = 1e9 / 19_200_000
        ticks.add(CalibrationBlock(cpuTimestamp: 1_000_000_000, gpuTimestamp: 1_000, unit: .ticks(periodNanoseconds: period)), receivedAt: .zero)
        #expect(ticks.cpuTime(forGPUTimestamp: 1_000 + 19_200_000) == Nanoseconds(2_000_000_000))
        #expect(ticks.cpuTime(forCPUTimestamp: 5) == Nanoseconds(5))
        #expect(ticks.add(CalibrationBlock(cpuTimestamp: 0, gpuTimestamp: 0, unit: .ticks(periodNanoseconds: 0)), receivedAt: .zero) == .invalid)
    }

    @Test func timestampsThatOverflowInTheirUnitAreInvalid() {
        var calibration = SessionCalibration()
        #expect(calibration.add(CalibrationBlock(cpuTimestamp: .max / 10, gpuTimestamp: 0, unit: .milliseconds), receivedAt: .zero) == .invalid)
        #expect(calibration.status.mode == .uncalibrated)
    }
}
