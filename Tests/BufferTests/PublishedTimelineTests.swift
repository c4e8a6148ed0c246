@testable import Buffer
import Core
import Testing

/// The sequence-locked line that ingest publishes and the real-time thread reads.
@Suite struct PublishedTimelineTests {
    let first = PublishedTimeline.Line(anchorSample: 0, anchorTime: .seconds(1), samplesPerSecond: 48_000)
    let second = PublishedTimeline.Line(anchorSample: 480, anchorTime: .seconds(2), samplesPerSecond: 48_000.5)

    @Test func aReaderSeesNothingBeforeTheFirstPublishAndTheLatestAfter() {
        let timeline = PublishedTimeline()
        #expect(timeline.line == nil && timeline.line(orElse: first) == nil)
        timeline.publish(first)
        timeline.publish(second)
        #expect(timeline.line == second && timeline.line(orElse: first) == second)
    }

    @Test func theRealtimeReaderKeepsItsCopyWhileAPublishStaysInProgress() {
        // A publisher preempted between its stores: the real-time reader must not spin on it.
        let timeline = PublishedTimeline()
        timeline.publish(first)
        timeline.beginPublish()
        #expect(timeline.line(orElse: first) == first)
        timeline.endPublish(second)
        #expect(timeline.line(orElse: first) == second)
    }
}
