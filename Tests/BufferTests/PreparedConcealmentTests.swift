import Buffer
import Core
import Testing

/// The slots that hand predictions from the concealment worker to playback.
@Suite struct PreparedConcealmentTests {
    static func publish(_ prepared: PreparedConcealment, start: Int64, value: Float, frames: Int = 4, endsOnAudio: Bool = false,
                        passed: Int64 = .min) {
        prepared.beginPrediction(for: start, passed: passed).update(repeating: value, count: frames * prepared.channels)
        prepared.publish(start: start, frames: frames, endsOnAudio: endsOnAudio)
    }

    @Test func eachGapsPredictionIsFoundByWhereTheGapStarts() throws {
        let prepared = try #require(PreparedConcealment(channels: ChannelCount(2), capacity: 16))
        #expect(prepared.claim(start: 100) == nil, "nothing yet")
        // Three gaps predicted before playback reaches the first.
        Self.publish(prepared, start: 100, value: 1)
        Self.publish(prepared, start: 200, value: 2, endsOnAudio: true)
        Self.publish(prepared, start: 300, value: 3)
        let first = try #require(prepared.claim(start: 100))
        #expect(first.samples[7] == 1 && first.frames == 4 && !first.endsOnAudio)
        let second = try #require(prepared.claim(start: 200))
        #expect(second.samples[0] == 2 && second.endsOnAudio)
        #expect(prepared.claim(start: 250) == nil)
        prepared.releaseClaim()
    }

    @Test func aNewerPredictionOfTheSameGapReplacesTheOlder() throws {
        let prepared = try #require(PreparedConcealment(channels: ChannelCount(2), capacity: 16))
        Self.publish(prepared, start: 100, value: 1)
        Self.publish(prepared, start: 100, value: 5, endsOnAudio: true)
        let claimed = try #require(prepared.claim(start: 100))
        #expect(claimed.samples[0] == 5 && claimed.endsOnAudio)
    }

    @Test func theSlotsOfGapsPlaybackHasPassedAreReusedFirst() throws {
        let prepared = try #require(PreparedConcealment(channels: ChannelCount(2), capacity: 16))
        for (index, start) in [300, 100, 400, 200].enumerated() { Self.publish(prepared, start: Int64(start), value: Float(index)) }
        // Playback has read up to 250: the gaps at 100 and 200 are behind it.
        Self.publish(prepared, start: 500, value: 9, passed: 250)
        Self.publish(prepared, start: 600, value: 9, passed: 250)
        for start in [300, 400, 500, 600] { #expect(prepared.claim(start: Int64(start)) != nil, "the gap at \(start)") }
        #expect(prepared.claim(start: 100) == nil && prepared.claim(start: 200) == nil)
    }

    @Test func theClaimedPredictionIsNeverOverwritten() throws {
        let prepared = try #require(PreparedConcealment(channels: ChannelCount(2), capacity: 16))
        Self.publish(prepared, start: 100, value: 1)
        let claimed = try #require(prepared.claim(start: 100))
        // Many more predictions, more than there are slots: the claimed one stays.
        for round in 0..<(3 * PreparedConcealment.slotCount) { Self.publish(prepared, start: Int64(200 + round), value: Float(2 + round)) }
        #expect((0..<8).allSatisfy { claimed.samples[$0] == 1 })
        // The newest ones are there; the oldest gave way.
        #expect(prepared.claim(start: Int64(200 + 3 * PreparedConcealment.slotCount - 1)) != nil)
        #expect(prepared.claim(start: 200) == nil)
    }

    @Test func itsMemoryComesFromTheBudget() throws {
        let budget = BufferBudget(limit: .kibibytes(1), perStreamLimit: .kibibytes(1))
        #expect(PreparedConcealment(channels: ChannelCount(2), capacity: 1_000, budget: budget) == nil)
        do {
            let prepared = try #require(PreparedConcealment(channels: ChannelCount(2), capacity: 16, budget: budget))
            #expect(budget.usedBytes == prepared.byteCount)
        }
        #expect(budget.usedBytes == ByteCount(0))
    }
}
