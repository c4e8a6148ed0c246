import AllocationCounter
import Buffer
import Core
import Testing

/// The jitter buffer on one thread: placement, reordering, duplicates, late frames, gaps, limits, memory.
@Suite struct FrameRingTests {
    /// Interleaved stereo samples whose values name their position: (2 × index + channel).
    static func frame(at first: Int64, count: Int) -> [Float] {
        (0..<count).flatMap { offset in (0..<2).map { Float((first + Int64(offset)) * 2 + Int64($0)) } }
    }

    static func write(_ ring: FrameRing, at first: Int64, count: Int = 480) -> FrameRing.WriteOutcome {
        frame(at: first, count: count).withUnsafeBufferPointer { ring.write(firstSample: first, frameCount: count, samples: $0) }
    }

    static func read(_ ring: FrameRing, from index: Int64, count: Int) -> (samples: [Float], result: FrameRing.ReadResult) {
        var output = [Float](repeating: .nan, count: count * 2)
        let result = output.withUnsafeMutableBufferPointer { ring.read(from: index, frameCount: count, into: $0) }
        return (output, result)
    }

    static func ring(frames: Int = 16 * 480) -> FrameRing { FrameRing(channels: ChannelCount(2), capacity: frames)! }

    @Test func framesReadBackAcrossFrameBoundariesInPeriodsOfAnySize() {
        let ring = Self.ring()
        for frame in 0..<6 { #expect(Self.write(ring, at: Int64(frame * 480)) == .stored) }
        var position: Int64 = 0
        while position + 256 <= 6 * 480 {
            let (samples, result) = Self.read(ring, from: position, count: 256)
            #expect(samples == Self.frame(at: position, count: 256))
            #expect(result == .init(covered: 256, gap: 0))
            position += 256
        }
    }

    @Test func reorderedFramesAreReadInOrder() {
        let ring = Self.ring()
        for frame in [2, 0, 3, 1] { _ = Self.write(ring, at: Int64(frame * 480)) }
        #expect(ring.reordered == 2)
        #expect(Self.read(ring, from: 0, count: 4 * 480).samples == Self.frame(at: 0, count: 4 * 480))
    }

    @Test func aRepeatedFrameIsADuplicateAndAnOverlappingOneAddsOnlyItsNewSamples() {
        let ring = Self.ring()
        #expect(Self.write(ring, at: 480) == .stored)
        #expect(Self.write(ring, at: 480) == .duplicate)
        // 700..<1180 overlaps 480..<960: the first samples stored stay, 960..<1180 are new.
        let other = [Float](repeating: -1, count: 480 * 2)
        #expect(other.withUnsafeBufferPointer { ring.write(firstSample: 700, frameCount: 480, samples: $0) } == .stored)
        #expect(Self.write(ring, at: 600, count: 100) == .duplicate)
        let (samples, result) = Self.read(ring, from: 480, count: 700)
        #expect(result == .init(covered: 700, gap: 0))
        #expect(Array(samples[..<960]) == Self.frame(at: 480, count: 480))
        #expect(Array(samples[960...]) == [Float](repeating: -1, count: 440))
        #expect(ring.duplicates == 2 && ring.stored == 2)
    }

    @Test func aFrameWhoseTimeHasPassedIsLateAndAPartlyPassedOneKeepsItsRest() {
        let ring = Self.ring()
        _ = Self.read(ring, from: 0, count: 600)
        #expect(Self.write(ring, at: 0) == .late)
        #expect(Self.write(ring, at: 480) == .stored)  // 480..<960: the part from 600 on is still due
        let (samples, result) = Self.read(ring, from: 600, count: 360)
        #expect(samples == Self.frame(at: 600, count: 360) && result.gap == 0)
        #expect(ring.late == 1)
    }

    @Test func aMissingFrameIsAGapOfSilence() {
        let ring = Self.ring()
        _ = Self.write(ring, at: 0)
        _ = Self.write(ring, at: 960)
        let (samples, result) = Self.read(ring, from: 0, count: 1_440)
        #expect(result == .init(covered: 960, gap: 480))
        #expect(Array(samples[960..<1_920]) == [Float](repeating: 0, count: 960))
        #expect(Array(samples[1_920...]) == Self.frame(at: 960, count: 480))
        #expect(ring.gapFrames == 480)
    }

    @Test func aFrameTooFarAheadWaitsForTheReaderAndOneLargerThanTheRingIsRefused() {
        let ring = Self.ring(frames: 4 * 480)
        for frame in 0..<4 { #expect(Self.write(ring, at: Int64(frame * 480)) == .stored) }
        // 1920..<2400 takes the slots of 0..<480, which the reader has yet to read.
        #expect(Self.write(ring, at: 4 * 480) == .full)
        _ = Self.read(ring, from: 0, count: 480)
        // Still held: the read in progress may be reading them until the next one starts.
        #expect(Self.write(ring, at: 4 * 480) == .full)
        _ = Self.read(ring, from: 480, count: 480)
        #expect(Self.write(ring, at: 4 * 480) == .stored)
        #expect(Self.read(ring, from: 960, count: 1_440).samples == Self.frame(at: 960, count: 1_440))
        #expect(Self.write(ring, at: 10_000, count: 4 * 480 + 1) == .tooLarge)
        #expect(ring.overflows == 2 && ring.tooLarge == 1)
    }

    @Test func aReadBehindAnEarlierOneIsSilenceNeverAnotherPositionsSamples() {
        let ring = Self.ring(frames: 960)
        _ = Self.write(ring, at: 0)
        _ = Self.read(ring, from: 0, count: 480)
        _ = Self.read(ring, from: 480, count: 480)
        #expect(Self.write(ring, at: 960) == .stored)  // in the slots 0..<480 had
        let (behind, result) = Self.read(ring, from: 0, count: 480)
        #expect(behind == [Float](repeating: 0, count: 960) && result.gap == 480)
        #expect(Self.read(ring, from: 960, count: 480).samples == Self.frame(at: 960, count: 480))
    }

    @Test func negativePositionsAndOneSampleFramesAreStoredLikeAnyOther() {
        let ring = Self.ring(frames: 48_000)
        for position in Int64(-24_000)..<24_000 { #expect(Self.write(ring, at: position, count: 1) == .stored) }
        let (samples, result) = Self.read(ring, from: -24_000, count: 48_000)
        #expect(result == .init(covered: 48_000, gap: 0) && samples == Self.frame(at: -24_000, count: 48_000))
        #expect(ring.stored == 48_000)
    }

    @Test func extremePositionsAreRefusedOrSilentNeverATrap() {
        let ring = Self.ring(frames: 960)
        let samples = [Float](repeating: 0.5, count: 960)
        func write(at first: Int64) -> FrameRing.WriteOutcome {
            samples.withUnsafeBufferPointer { ring.write(firstSample: first, frameCount: 480, samples: $0) }
        }
        #expect(write(at: .max - 100) == .tooLarge)
        #expect(write(at: .min) == .tooLarge)
        #expect(Self.read(ring, from: .max - 10, count: 256).result == .init(covered: 0, gap: 256))
        #expect(Self.read(ring, from: .min, count: 256).result == .init(covered: 0, gap: 256))
        #expect(write(at: -480) == .stored)
        #expect(Self.read(ring, from: -480, count: 480).result == .init(covered: 480, gap: 0))
        _ = Self.read(ring, from: 0, count: 480)  // the slots of -480..<0 are free from here
        #expect(write(at: .max - 480) == .stored)
        #expect(Self.read(ring, from: .max - 480, count: 480).result == .init(covered: 480, gap: 0))
    }

    @Test func aRingReservesItsMemoryFromTheBudgetAndReturnsItWhenFreed() {
        let budget = BufferBudget(limit: .kibibytes(64), perStreamLimit: .kibibytes(40))
        let bytes = FrameRing.byteCount(capacity: 2_048, channels: ChannelCount(2))
        #expect(bytes == ByteCount(2_048 * 16))
        var first: FrameRing? = FrameRing(channels: ChannelCount(2), capacity: 2_048, budget: budget)
        #expect(first != nil && budget.usedBytes == bytes)
        #expect(FrameRing(channels: ChannelCount(2), capacity: 4_096, budget: budget) == nil)  // over one ring's share
        let second = FrameRing(channels: ChannelCount(2), capacity: 2_048, budget: budget)
        #expect(second != nil)
        #expect(FrameRing(channels: ChannelCount(2), capacity: 2_048, budget: budget) == nil)  // over the total
        first = nil
        #expect(budget.usedBytes == bytes)
        #expect(FrameRing(channels: ChannelCount(2), capacity: 2_048, budget: budget) != nil)
        _ = (first, second)
    }

    @Test(.enabled(if: allocation_counter_available() == 1, "sanitizer build: the allocation counter cannot interpose malloc"))
    func readingAndWritingAllocateNothing() {
        let ring = Self.ring(frames: 64 * 480)
        let input = UnsafeMutableBufferPointer<Float>.allocate(capacity: 960)
        let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: 512)
        defer { input.deallocate(); output.deallocate() }
        input.initialize(repeating: 0.5)
        allocation_counter_start()
        var position: Int64 = 0
        var frame: Int64 = 0
        var stored = 0
        while frame < 10_000 {
            if ring.write(firstSample: frame * 480, frameCount: 480, samples: UnsafeBufferPointer(input)) == .stored { stored += 1 }
            frame += 1
            while position + 256 <= frame * 480 - 960 {
                ring.read(from: position, frameCount: 256, into: output)
                position += 256
            }
        }
        let allocations = allocation_counter_stop()
        #expect(stored == 10_000 && allocations == 0)
    }
}
