import Core
import Playback
import Testing

@Suite struct DeviceTimelineTests {
    /// Readings as the JACK plugin gives them: once a period, with wake-up jitter, from a device
    /// whose clock runs `ppm` fast against CLOCK_MONOTONIC.
    static func run(ppm: Double, jitter: Int64, seconds: Int = 30) -> (timeline: DeviceTimeline, truth: (Int64) -> Double) {
        var timeline = DeviceTimeline(nominalRate: .standard)
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
        let (timeline, truth) = Self.run(ppm: 200, jitter: 200_000)
        #expect(abs(timeline.measuredRate / 48_000 - 1 - 200e-6) < 5e-6)
        // Readings are late by 0…200 µs (mean 100 µs): the timeline sits near their mean, steadily.
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
