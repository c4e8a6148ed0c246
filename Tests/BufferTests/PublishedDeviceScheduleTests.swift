@testable import Buffer
import Core
import Testing

/// The device's mixing schedule, as ingest reads it to know what latency a frame needed.
@Suite struct PublishedDeviceScheduleTests {
    // Periods of 5 ms heard from 1 s on, each mixed 1 ms before.
    let schedule = PublishedDeviceSchedule.Schedule(periodStart: .seconds(1), period: .milliseconds(5), mixLead: .milliseconds(1))

    @Test func aFrameNeedsTheLatencyThatPutsItsFirstSampleInTheFirstPeriodMixedAfterItArrived() {
        // Arrives at 1.1053 s: the first period mixed after it (at 1.109 s) is heard from 1.110 s.
        let arrival = Nanoseconds.seconds(1) + .microseconds(105_300)
        #expect(schedule.latencyNeeded(firstSample: .seconds(1) + .milliseconds(100), arrival: arrival) == .milliseconds(10))
        // A first sample 2 ms later needs 2 ms less: where a frame falls against the periods counts.
        #expect(schedule.latencyNeeded(firstSample: .seconds(1) + .milliseconds(102), arrival: arrival) == .milliseconds(8))
        // Arriving exactly when a period is mixed is in time for it.
        #expect(schedule.latencyNeeded(firstSample: .seconds(1) + .milliseconds(100), arrival: .seconds(1) + .milliseconds(104)) == .milliseconds(5))
        // A frame sent ahead needs less than nothing.
        #expect(schedule.latencyNeeded(firstSample: .seconds(2), arrival: .seconds(1) + .milliseconds(100)) == -.milliseconds(895))
    }

    @Test func figuresBeyondAnyLatencyGiveNone() {
        #expect(schedule.latencyNeeded(firstSample: Nanoseconds(.min), arrival: .seconds(1)) == nil)
        #expect(schedule.latencyNeeded(firstSample: .seconds(1), arrival: Nanoseconds(.max)) == nil)
        let stopped = PublishedDeviceSchedule.Schedule(periodStart: .seconds(1), period: .zero, mixLead: .zero)
        #expect(stopped.latencyNeeded(firstSample: .seconds(1), arrival: .seconds(1)) == nil)
    }

    @Test func aReaderSeesNothingBeforeTheFirstPublishAndTheLatestAfter() {
        let published = PublishedDeviceSchedule()
        #expect(published.schedule == nil)
        published.publish(schedule)
        #expect(published.schedule == schedule)
    }
}
