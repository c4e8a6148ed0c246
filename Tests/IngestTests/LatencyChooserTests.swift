import Core
import Ingest
import Testing

/// `--latency auto`'s policy: up at once, down slowly, never above the ceiling.
@Suite struct LatencyChooserTests {
    let floor = Nanoseconds.milliseconds(7)

    @Test func aFrameThatNeedsMoreRaisesTheLatencyAtOnceButNotPastTheCeiling() {
        var chooser = LatencyChooser(ceiling: .milliseconds(50))
        #expect(chooser.frameNeeded(.milliseconds(12), current: .milliseconds(20), at: .seconds(1)) == nil)
        #expect(chooser.frameNeeded(.milliseconds(25), current: .milliseconds(20), at: .seconds(1)) == .milliseconds(25))
        // Beyond the ceiling: that stream's late frames are counted; the others are not dragged.
        #expect(chooser.frameNeeded(.milliseconds(60), current: .milliseconds(25), at: .seconds(1)) == nil)
    }

    @Test func theFirstReviewChoosesAtOnceThenTheLatencyComesDownAMillisecondASecond() {
        var chooser = LatencyChooser(ceiling: .milliseconds(200))
        var current = Nanoseconds.milliseconds(20)
        current = chooser.review(streamNeeds: [.milliseconds(9), .milliseconds(11)], floor: floor, current: current, at: .seconds(2)) ?? current
        #expect(current == .milliseconds(11))
        // Jitter: a frame needs 15 ms; held for a while after that raise, then down a step a second.
        let raisedAt = Nanoseconds.seconds(3)
        current = chooser.frameNeeded(.milliseconds(15), current: current, at: raisedAt) ?? current
        #expect(current == .milliseconds(15))
        var seen: [Nanoseconds] = []
        for second in [Int64(4), LatencyChooser.holdAfterRaise.rawValue / 1_000_000_000 + 2] + (3...7).map({ LatencyChooser.holdAfterRaise.rawValue / 1_000_000_000 + $0 }) {
            current = chooser.review(streamNeeds: [.milliseconds(11)], floor: floor, current: current, at: .seconds(second)) ?? current
            seen.append(current)
        }
        #expect(seen == [15, 15, 14, 13, 12, 11, 11].map { Nanoseconds.milliseconds($0) })
    }

    @Test func theFloorAndTheCeilingBoundTheChoiceAndANewStreamIsChosenAfresh() {
        var chooser = LatencyChooser(ceiling: .milliseconds(30))
        #expect(chooser.review(streamNeeds: [.milliseconds(2)], floor: floor, current: .milliseconds(20), at: .seconds(1)) == floor)
        // A stream beyond the ceiling is left out of the choice.
        #expect(chooser.review(streamNeeds: [.milliseconds(40)], floor: floor, current: .milliseconds(20), at: .seconds(2)) == nil)
        // No stream: the next one's first review chooses at once again.
        #expect(chooser.review(streamNeeds: [.milliseconds(10)], floor: floor, current: .milliseconds(20), at: .seconds(3)) == .milliseconds(10))
    }
}
