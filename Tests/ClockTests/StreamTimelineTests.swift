import Clock
import Core
import Testing

/// Stream timelines: smoothing stamp jitter, lost and reordered frames, discontinuities, drift.
@Suite struct StreamTimelineTests {
    let start: Int64 = 2_000_000_000_000
    let frame = 480

    /// A sender whose sample clock runs `driftPPM` fast, stamping each 480-sample frame with
    /// up to ±`jitter` ns of error; returns the truth and the timeline after `frames` frames.
    func run(frames: Int, jitter: Int64 = 0, driftPPM: Double = 0, seed: UInt64 = 1,
             lose: (Int) -> Bool = { _ in false }, useSequence: Bool = true) -> (timeline: StreamTimeline, truth: (Int64) -> Int64) {
        let period = 1e9 / 48_000 / (1 + driftPPM * 1e-6)
        let truth = { (index: Int64) in self.start + Int64((Double(index) * period).rounded()) }
        var timeline = StreamTimeline(nominalRate: .standard)
        var random = SeededRandom(seed: seed)
        for number in 0..<frames where !lose(number) {
            let index = Int64(number * frame)
            let stamp = truth(index) + (jitter > 0 ? Int64.random(in: -jitter...jitter, using: &random) : 0)
            let placement = timeline.observe(stamp: Nanoseconds(stamp), sampleCount: frame, sequence: useSequence ? UInt64(number) : nil)
            #expect(placement == .placed(firstSample: index), "frame \(number)")
        }
        return (timeline, truth)
    }

    func worstError(_ timeline: StreamTimeline, _ truth: (Int64) -> Int64, samples: StrideTo<Int64>) -> Int64 {
        samples.map { abs((timeline.line.time(ofSample: $0)?.rawValue ?? .max / 2) - truth($0)) }.max() ?? 0
    }

    @Test func steadyStampsGiveTheExactLine() {
        let (timeline, truth) = run(frames: 500)
        #expect(worstError(timeline, truth, samples: stride(from: 0, to: 500 * 480, by: 997)) <= 1)
        #expect(abs(timeline.driftPPM) < 0.01)
    }

    @Test func oneMillisecondOfStampJitterMovesNoSampleByMoreThanAFewMicroseconds() {
        // 30 s of 10 ms frames, each stamped up to ±1 ms off.
        let (timeline, truth) = run(frames: 3_000, jitter: 1_000_000)
        let recent = stride(from: Int64(2_500 * 480), to: Int64(3_000 * 480), by: 101)
        #expect(worstError(timeline, truth, samples: recent) <= 5_000)
        #expect(abs(timeline.driftPPM) < 2)
    }

    @Test func aSenderRunning300PPMFastIsMeasured() {
        let (timeline, truth) = run(frames: 2_000, jitter: 100_000, driftPPM: 300)
        #expect(abs(timeline.driftPPM - 300) < 1)
        #expect(abs(timeline.measuredRate - 48_000 * 1.0003) < 0.05)
        #expect(worstError(timeline, truth, samples: stride(from: Int64(1_900 * 480), to: Int64(2_000 * 480), by: 97)) <= 2_000)
    }

    @Test func aRateTheStampsCannotTellFromNominalStaysNominal() {
        // A sender whose sample clock is the stamps' clock, ±1 ms of stamp jitter: a fitted rate
        // would wander by ppm (and the line's far end by microseconds) for tens of seconds.
        for seed in UInt64(1)...UInt64(4) {
            let (timeline, _) = run(frames: 1_500, jitter: 1_000_000, seed: seed)
            #expect(timeline.driftPPM == 0, "seed \(seed): \(timeline.driftPPM) ppm")
        }
    }

    @Test func aSmallRealDriftUnderStampJitterIsStillMeasured() {
        // 20 ppm under ±1 ms of jitter: after 30 s the stamps rule the nominal rate out.
        let (timeline, truth) = run(frames: 3_000, jitter: 1_000_000, driftPPM: 20)
        #expect(abs(timeline.driftPPM - 20) < 2, "\(timeline.driftPPM) ppm")
        #expect(worstError(timeline, truth, samples: stride(from: Int64(2_900 * 480), to: Int64(3_000 * 480), by: 97)) <= 5_000)
    }

    @Test func lostFramesDoNotShiftTheStreamWithOrWithoutSequenceNumbers() {
        // Every seventh frame lost, with ±0.5 ms jitter: the survivors land on their true indices
        // (checked inside `run`) whether `seq` counts the gap or the stamp has to.
        for useSequence in [true, false] {
            let (timeline, truth) = run(frames: 1_000, jitter: 500_000, lose: { $0 % 7 == 3 }, useSequence: useSequence)
            #expect(timeline.reanchors == 0)
            #expect(worstError(timeline, truth, samples: stride(from: Int64(900 * 480), to: Int64(1_000 * 480), by: 113)) <= 10_000)
        }
    }

    @Test func reorderedAndDuplicatedFramesKeepTheirPlaces() {
        var timeline = StreamTimeline(nominalRate: .standard)
        let period = 1e9 / 48_000
        let order = [0, 1, 2, 4, 3, 5, 5, 7, 6, 8, 2]
        var placed: [Int64] = []
        for number in order {
            let stamp = start + Int64((Double(number * frame) * period).rounded())
            placed.append(timeline.observe(stamp: Nanoseconds(stamp), sampleCount: frame, sequence: UInt64(number)).firstSample ?? -1)
        }
        #expect(placed == order.map { Int64($0 * frame) })
    }

    @Test func aJumpBeyondTheThresholdReanchorsAndOneWithinItDoesNot() {
        var timeline = StreamTimeline(nominalRate: .standard)
        let period = 1e9 / 48_000
        var offset: Int64 = 0
        var placements: [StreamTimeline.Placement] = []
        for number in 0..<300 {
            if number == 100 { offset = 3_000_000 }  // 3 ms: within the 5 ms threshold
            if number == 200 { offset = 13_000_000 }  // a real 10 ms discontinuity
            let stamp = start + offset + Int64((Double(number * frame) * period).rounded())
            placements.append(timeline.observe(stamp: Nanoseconds(stamp), sampleCount: frame, sequence: UInt64(number)))
        }
        #expect(placements[100] == .placed(firstSample: 100 * 480))
        #expect(placements[200] == .reanchored(firstSample: 200 * 480))
        #expect(timeline.reanchors == 1)
        let index = Int64(250 * frame)
        #expect(abs((timeline.line.time(ofSample: index)?.rawValue ?? 0) - (start + 13_000_000 + Int64((Double(index) * period).rounded()))) <= 1)
    }

    /// A refit reuses each block's hull vertices: the lines are those of hulls built from every
    /// point, through the window's cut, the kept observations' wrap, reordering, loss and a re-anchor.
    @Test func blockHullsGiveTheLinesOfHullsBuiltFromEveryPoint() {
        var configuration = StreamTimeline.Configuration()
        configuration.window = .seconds(20)
        configuration.maximumObservations = 3_000
        var everyPoint = configuration
        everyPoint.hullBlockLength = 1
        var blocked = StreamTimeline(nominalRate: .standard, configuration: configuration)
        var reference = StreamTimeline(nominalRate: .standard, configuration: everyPoint)
        var random = SeededRandom(seed: 9)
        let period = 1e9 / 48_000 * (1 - 120e-6)
        var lines = 0
        // 100 s of 10 ms frames with ±0.3 ms of stamp jitter; some lost, some swapped; a step at 60 s.
        var number = 0
        while number < 10_000 {
            let order = number % 97 == 5 ? [number + 1, number] : [number]
            for current in order where current % 61 != 7 {
                let step: Int64 = current >= 6_000 ? 40_000_000 : 0
                let stamp = start + Int64(Double(current * frame) * period) + step + Int64.random(in: -300_000...300_000, using: &random)
                let a = blocked.observe(stamp: Nanoseconds(stamp), sampleCount: frame, sequence: UInt64(current))
                let b = reference.observe(stamp: Nanoseconds(stamp), sampleCount: frame, sequence: UInt64(current))
                #expect(a == b)
                #expect(abs(blocked.line.anchorTime.rawValue - reference.line.anchorTime.rawValue) <= 1 && blocked.line.anchorIndex == reference.line.anchorIndex,
                        "frame \(current): \(blocked.line) vs \(reference.line)")
                #expect(abs(blocked.line.period / reference.line.period - 1) < 1e-12, "frame \(current): \(blocked.line) vs \(reference.line)")
                lines += 1
            }
            number += order.count
        }
        #expect(blocked.reanchors == 1 && lines > 9_000)
        #expect(abs(blocked.driftPPM - 120) < 5)
    }

    @Test func timeAndIndexAreInverse() {
        let line = StreamTimeline.Line(anchorIndex: 1_000, anchorTime: Nanoseconds(5_000_000), period: 20_833.333)
        #expect(abs(line.sampleIndex(at: line.time(ofSample: 123_456)!) - 123_456) < 1e-3)
    }
}
