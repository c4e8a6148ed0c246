import Core
import Realtime
import Testing

@Suite struct DeviceTimelineTests {
    /// Readings as the JACK plugin gives them: once a period, with wake-up jitter, from a device
    /// whose clock runs `ppm` fast against CLOCK_MONOTONIC.
    static func run(ppm: Double, jitter: Int64, seconds: Int = 30, readingGroup: Nanoseconds? = nil) -> (timeline: DeviceTimeline, truth: (Int64) -> Double) {
        var timeline = DeviceTimeline(nominalRate: .standard)
        if let readingGroup { timeline.readingGroup = readingGroup }
        var random = SeededRandomNumberGenerator(seed: 4)
        let framePeriod = 1e9 / 48_000 / (1 + ppm * 1e-6)
        let start = 5e9
        let truth = { (frame: Int64) in start + Double(frame) * framePeriod }
        var frame: Int64 = 0
        while frame < Int64(seconds) * 48_000 {
            frame += 256
            let wake = Int64.random(in: 0...jitter, using: &random)
            timeline.observe(heardFrame: frame, at: Nanoseconds(Int64(truth(frame)) + wake))
        }
        return (timeline, truth)
    }

    @Test func aDeviceRunning200PPMFastIsTrackedToWithinItsReadingsJitter() {
        // The phase term does the quick work; the narrow rate term settles with a time constant
        // of about 15 s (from the nominal rate, 200 ppm off): after 90 s it is within 5 ppm.
        let (timeline, truth) = Self.run(ppm: 200, jitter: 200_000, seconds: 90)
        #expect(abs(timeline.measuredRate / 48_000 - 1 - 200e-6) < 5e-6, "rate \(timeline.measuredRate)")
        // Readings are late by 0…200 µs; the earliest of each 40 ms (about 8 readings) by 22 µs
        // on average: the timeline sits near that, steadily.
        let frame = Int64(90 * 48_000)
        let error = Double(timeline.time(ofFrame: frame).rawValue) - truth(frame)
        #expect(abs(error - 22_000) < 20_000, "error \(error / 1000) µs")
    }

    @Test func theEarliestReadingOfEachGroupIsFollowedNotTheirMean() {
        // The same readings fed one by one: the timeline sits at their mean lateness (100 µs).
        let (timeline, truth) = Self.run(ppm: 0, jitter: 200_000, seconds: 30, readingGroup: .zero)
        let frame = Int64(30 * 48_000)
        let error = Double(timeline.time(ofFrame: frame).rawValue) - truth(frame)
        #expect(abs(error - 100_000) < 30_000, "error \(error / 1000) µs")
    }

    @Test func aSingleLateReadingIsIgnoredAndARunOfThemReanchors() {
        var (timeline, _) = Self.run(ppm: 0, jitter: 10_000, seconds: 3)
        var frame = Int64(3 * 48_000)
        let before = timeline.time(ofFrame: frame + 256)
        // The reading thread woke 15 ms late once: the timeline does not move.
        frame += 256
        timeline.observe(heardFrame: frame, at: timeline.time(ofFrame: frame) + .milliseconds(15))
        #expect(timeline.resets == 0)
        #expect(timeline.time(ofFrame: frame) == before)
        // The device's timing really moved by 50 ms: after a few readings the timeline follows.
        for _ in 0..<4 {
            frame += 256
            timeline.observe(heardFrame: frame, at: before + .milliseconds(50) + Nanoseconds(Int64(frame - Int64(3 * 48_000) - 256) * 1_000_000_000 / 48_000))
        }
        #expect(timeline.resets == 1)
        #expect(abs((timeline.time(ofFrame: frame + 48_000) - timeline.time(ofFrame: frame)).rawValue - 1_000_000_000) < 1_000)
    }
}

extension DeviceTimelineTests {
    /// A JACK period of 128 under an ALSA period of 256: once-a-period readings see the pointer
    /// move by 256, the brief poll at start sees its real step, and the heard frame is a JACK
    /// period (not an ALSA one) behind the pointer.
    @Test func thePointersStepIsLearnedFromAPollNotFromOnceAPeriodReadings() {
        let framePeriod = 1e9 / 48_000
        let start = 1e9
        /// The pointer after JACK's cycles up to `time`: 128 frames per cycle, the frames of the
        /// cycle in progress (started at `time(pointer − 128)`) being heard.
        func pointer(at time: Double) -> Int64 { (Int64((time - start) / framePeriod) / 128 + 1) * 128 }
        var polled = DeviceTimeline(nominalRate: .standard)
        var unpolled = DeviceTimeline(nominalRate: .standard)
        for step in 0..<25 {
            polled.notePointer(pointer(at: start + Double(step) * 200_000))
        }
        #expect(polled.devicePointerStep == 128)
        // Readings just after every other JACK cycle began (the ALSA period's wake-up), for 10 s.
        for cycle in stride(from: 2, to: 3750, by: 2) {
            let time = start + Double(cycle * 128) * framePeriod + 20_000
            polled.observe(devicePointer: pointer(at: time), at: Nanoseconds(Int64(time)))
            unpolled.observe(devicePointer: pointer(at: time), at: Nanoseconds(Int64(time)))
        }
        #expect(unpolled.devicePointerStep == 256)
        let frame = Int64(480_000)
        let truth = start + Double(frame) * framePeriod
        let error = Double(polled.time(ofFrame: frame).rawValue) - truth
        // Within the readings' 20 µs wake-up delay, not a JACK period (2.7 ms) off.
        #expect(abs(error - 20_000) < 5_000, "heard-time error \(error / 1000) µs")
    }
}

extension DeviceTimelineTests {
    /// JACK skipped a cycle: from then on every frame is heard one period later. The timeline
    /// moves by that period within a few readings and keeps the device's rate, instead of
    /// swinging its rate estimate for seconds.
    @Test func aSlipOfOnePointerStepReanchorsAtOnceAndKeepsTheRate() {
        let framePeriod = 1e9 / 48_000 / (1 + 200e-6)
        var timeline = DeviceTimeline(nominalRate: .standard)
        var random = SeededRandomNumberGenerator(seed: 9)
        var slip = 0.0
        // After 64 s (the rate settled, see above), JACK slips; 20 s later the rate is unmoved.
        for period in Int64(1)...Int64(16_000) {
            if period == 12_000 { slip = 256 * framePeriod }
            let pointer = period * 256
            // The reading thread wakes 0…200 µs after the step.
            let time = 1e9 + Double(pointer - 256) * framePeriod + slip + Double(Int64.random(in: 0...200_000, using: &random))
            timeline.observe(devicePointer: pointer, at: Nanoseconds(Int64(time)))
            if period == 12_010 {
                let frame = Int64(12_010 * 256)
                let error = Double(timeline.time(ofFrame: frame).rawValue) - (1e9 + Double(frame) * framePeriod + slip)
                #expect(abs(error) < 1_000_000, "ten readings after the slip the timeline is \(error / 1000) µs off")
            }
        }
        #expect(timeline.resets == 1)
        #expect(abs(timeline.measuredRate / 48_000 - 1 - 200e-6) < 20e-6, "rate \(timeline.measuredRate)")
    }
}

extension DeviceTimelineTests {
    /// On a busy machine the reading thread now and then wakes milliseconds late, a few periods
    /// in a row (below the slip threshold). The timeline's rate, which every stream's resampling
    /// ratio follows, must not swing: a swing of 100 ppm is a heard pitch bend and a drift of
    /// 0.1 ms a second.
    @Test func burstsOfLateReadingsDoNotBendTheRate() {
        var timeline = DeviceTimeline(nominalRate: .standard)
        var random = SeededRandomNumberGenerator(seed: 11)
        let framePeriod = 1e9 / 48_000
        var worst = 0.0
        for period in Int64(1)...Int64(6_000) {
            let pointer = period * 256
            var late = Double(Int64.random(in: 0...200_000, using: &random))
            // Every 300 periods (1.6 s), three readings 1.5…3.5 ms late.
            if period % 300 < 3 { late += Double(Int64.random(in: 1_500_000...3_500_000, using: &random)) }
            timeline.observe(devicePointer: pointer, at: Nanoseconds(Int64(1e9 + Double(pointer - 256) * framePeriod + late)))
            if period > 400 { worst = max(worst, abs(timeline.measuredRate / 48_000 - 1)) }
        }
        #expect(worst < 20e-6, "the rate swung by up to \(worst * 1e6) ppm")
        #expect(timeline.resets == 0)
    }
}

extension DeviceTimelineTests {
    /// The JACK server, recovering from a stall, moved the device's timing by 1 ms: less than a
    /// slip of a period, more than the readings' jitter. The timeline steps there within a few
    /// reading groups (not seconds of slewing at its limited pull) and keeps its rate.
    @Test func aSmallStepOfTheDevicesTimingIsFollowedWithinAFewGroups() {
        let framePeriod = 1e9 / 48_000
        var timeline = DeviceTimeline(nominalRate: .standard)
        var random = SeededRandomNumberGenerator(seed: 5)
        var step = 0.0
        var worstAfter = 0.0
        for period in Int64(1)...Int64(4_000) {
            if period == 2_000 { step = 1_000_000 }
            let pointer = period * 256
            let time = 1e9 + Double(pointer - 256) * framePeriod + step + Double(Int64.random(in: 0...200_000, using: &random))
            timeline.observe(devicePointer: pointer, at: Nanoseconds(Int64(time)))
            // From 0.25 s (47 periods) after the step on, the timeline is on the device's new timing.
            if period > 2_047 {
                worstAfter = max(worstAfter, abs(Double(timeline.time(ofFrame: pointer).rawValue) - (1e9 + Double(pointer) * framePeriod + step)))
            }
        }
        #expect(worstAfter < 150_000, "the timeline was up to \(worstAfter / 1000) µs off the device from 0.25 s after the step")
        #expect(timeline.resets == 1)
        #expect(abs(timeline.measuredRate / 48_000 - 1) < 10e-6, "rate \(timeline.measuredRate)")
    }
}
