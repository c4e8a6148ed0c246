import Authentication
import Testing

@Suite struct ReplayWindowTests {
    /// Which of `counters`, offered in order to one window, it accepts.
    static func accepted(_ counters: [UInt64]) -> [Bool] {
        var window = ReplayWindow()
        return counters.map { window.accept($0) }
    }

    @Test func eachCounterIsAcceptedOnce() {
        #expect(Self.accepted([5, 5, 6, 6, 5]) == [true, false, true, false, false])
    }

    @Test func reorderingWithinTheWindowIsAcceptedOnce() {
        #expect(Self.accepted([100, 103, 101, 102, 101, 103]) == [true, true, true, true, false, false])
    }

    @Test func theWindowRemembersItsWidthAndNoMore() {
        let width = ReplayWindow.width
        // The oldest it still takes is width − 1 behind the newest; width behind is a replay even if unseen.
        #expect(Self.accepted([10_000, 10_000 - width + 1, 10_000 - width]) == [true, true, false])
    }

    @Test func aLeapBeyondTheWindowForgetsWhatWasSeenAndStillRefusesTheOld() {
        let width = ReplayWindow.width
        let leap = 50 + 5 * width
        #expect(Self.accepted(Array(1...50) + [leap, 50, leap - 1, leap - width + 1, leap - width + 1])
                == Array(repeating: true, count: 50) + [true, false, true, true, false])
    }

    @Test func theExtremesOfTheCounterDoNotTrap() {
        #expect(Self.accepted([0, .max, .max, 0, .max - 1]) == [true, true, false, false, true])
    }
}
