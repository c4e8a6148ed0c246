import AllocationCounter
import Buffer
import Core
import Testing

/// The jitter buffer on one thread: placement, reordering, duplicates, late frames, gaps, limits.
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

    @Test func framesReadBackAcrossFrameBoundariesInPeriodsOfAnySize() {
        let ring = FrameRing(channels: ChannelCount(2), slotCount: 16)
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
        let ring = FrameRing(channels: ChannelCount(2), slotCount: 16)
        for frame in [2, 0, 3, 1] { _ = Self.write(ring, at: Int64(frame * 480)) }
        #expect(ring.reordered == 2)
        #expect(Self.read(ring, from: 0, count: 4 * 480).samples == Self.frame(at: 0, count: 4 * 480))
    }

    @Test func overlappingFramesAreDuplicates() {
        let ring = FrameRing(channels: ChannelCount(2), slotCount: 16)
        #expect(Self.write(ring, at: 480) == .stored)
        #expect(Self.write(ring, at: 480) == .duplicate)
        #expect(Self.write(ring, at: 700) == .duplicate)
        #expect(Self.write(ring, at: 0) == .stored)
        #expect(ring.duplicates == 2 && ring.stored == 2)
    }

    @Test func aFrameWhoseTimeHasPassedIsLateAndAPartlyPassedOneKeepsItsRest() {
        let ring = FrameRing(channels: ChannelCount(2), slotCount: 16)
        _ = Self.read(ring, from: 0, count: 600)
        #expect(Self.write(ring, at: 0) == .late)
        #expect(Self.write(ring, at: 480) == .stored)  // 480..<960: the part from 600 on is still due
        let (samples, result) = Self.read(ring, from: 600, count: 360)
        #expect(samples == Self.frame(at: 600, count: 360) && result.gap == 0)
        #expect(ring.late == 1)
    }

    @Test func aMissingFrameIsAGapOfSilence() {
        let ring = FrameRing(channels: ChannelCount(2), slotCount: 16)
        _ = Self.write(ring, at: 0)
        _ = Self.write(ring, at: 960)
        let (samples, result) = Self.read(ring, from: 0, count: 1_440)
        #expect(result == .init(covered: 960, gap: 480))
        #expect(Array(samples[960..<1_920]) == [Float](repeating: 0, count: 960))
        #expect(Array(samples[1_920...]) == Self.frame(at: 960, count: 480))
        #expect(ring.gapFrames == 480)
    }

    @Test func aFullRingRefusesAndAnOversizedFrameIsRefused() {
        let ring = FrameRing(channels: ChannelCount(2), slotCount: 4, slotFrames: 480)
        for frame in 0..<4 { #expect(Self.write(ring, at: Int64(frame * 480)) == .stored) }
        #expect(Self.write(ring, at: 4 * 480) == .full)
        _ = Self.read(ring, from: 0, count: 480)  // frees one slot
        #expect(Self.write(ring, at: 4 * 480) == .stored)
        #expect(Self.write(ring, at: 10_000, count: 481) == .tooLarge)
        #expect(ring.overflows == 1 && ring.tooLarge == 1)
    }

    @Test func aSlotHeldBehindAnUnfinishedOneIsReleasedLater() {
        // Frames stored out of order: 960 first, then 0. Reading 0..<480 finishes frame 0 (slot 2)
        // but slot 1 (frame 960) is still live, so nothing can be released until it is read.
        let ring = FrameRing(channels: ChannelCount(2), slotCount: 2)
        _ = Self.write(ring, at: 960)
        _ = Self.write(ring, at: 0)
        #expect(Self.write(ring, at: 480) == .full)
        _ = Self.read(ring, from: 0, count: 480)
        #expect(Self.write(ring, at: 480) == .full)
        _ = Self.read(ring, from: 480, count: 960)
        #expect(Self.write(ring, at: 1_440) == .stored)
    }

    @Test(.enabled(if: allocation_counter_available() == 1, "sanitizer build: the allocation counter cannot interpose malloc"))
    func readingAndWritingAllocateNothing() {
        let ring = FrameRing(channels: ChannelCount(2), slotCount: 64)
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
