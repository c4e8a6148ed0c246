import Buffer
import Core
import Testing

/// What the concealment worker sees of a ring: the history kept behind the reader, peeks, gaps
/// with frames after them, and which frames a read missed.
@Suite struct FrameRingPeekTests {
    static func ring(capacity: Int = 8 * 480, retained: Int = 0) -> FrameRing {
        FrameRing(channels: ChannelCount(2), capacity: capacity, retained: retained)!
    }

    static func peek(_ ring: FrameRing, from index: Int64, count: Int) -> (samples: [Float], present: [Bool], valid: Bool) {
        var samples = [Float](repeating: .nan, count: count * 2)
        var present = [Bool](repeating: false, count: count)
        let valid = samples.withUnsafeMutableBufferPointer { output in
            present.withUnsafeMutableBufferPointer { ring.peek(from: index, frameCount: count, into: output.baseAddress!, present: $0.baseAddress!) }
        }
        return (samples, present, valid)
    }

    @Test func retainedFramesBehindTheReaderAreNotOverwritten() {
        // 4 frames of room, 2 of them kept behind the reader.
        let ring = Self.ring(capacity: 4 * 480, retained: 2 * 480)
        for frame in 0..<2 { #expect(FrameRingTests.write(ring, at: Int64(frame * 480)) == .stored) }
        _ = FrameRingTests.read(ring, from: 0, count: 960)
        // The reader's last read started at 0: everything from 960 frames before it is kept, so
        // only two frames more fit ahead.
        #expect(FrameRingTests.write(ring, at: 960) == .stored)
        #expect(FrameRingTests.write(ring, at: 1_440) == .stored)
        #expect(FrameRingTests.write(ring, at: 1_920) == .full)
        let peeked = Self.peek(ring, from: 0, count: 960)
        #expect(peeked.valid && peeked.present.allSatisfy { $0 })
        #expect(peeked.samples == FrameRingTests.frame(at: 0, count: 960))
        // Reads start at 960, then at 1 440: the frame before 480 is released and may be replaced.
        _ = FrameRingTests.read(ring, from: 960, count: 480)
        #expect(FrameRingTests.write(ring, at: 1_920) == .full)
        _ = FrameRingTests.read(ring, from: 1_440, count: 480)
        #expect(FrameRingTests.write(ring, at: 1_920) == .stored)
        #expect(!Self.peek(ring, from: 0, count: 480).valid, "released by the reader: not to be trusted")
        #expect(Self.peek(ring, from: 480, count: 480).valid)
    }

    @Test func aPeekMarksWhatIsMissing() {
        let ring = Self.ring()
        _ = FrameRingTests.write(ring, at: 0)
        _ = FrameRingTests.write(ring, at: 960)
        let peeked = Self.peek(ring, from: 240, count: 960)
        #expect(peeked.valid)
        #expect(peeked.present == (0..<960).map { $0 < 240 || $0 >= 720 })
        #expect(Array(peeked.samples[480..<482]) == [0, 0], "missing frames read as silence")
        #expect(ring.newestWrittenEnd == 1_440)
    }

    @Test func aGapIsFoundOnlyOnceAFrameCameAfterIt() {
        let ring = Self.ring()
        _ = FrameRingTests.write(ring, at: 0)
        #expect(ring.firstGap(from: 0, to: ring.newestWrittenEnd) == nil)
        _ = FrameRingTests.write(ring, at: 1_440)
        #expect(ring.firstGap(from: 0, to: ring.newestWrittenEnd) == 480..<1_440)
        #expect(ring.firstGap(from: 960, to: ring.newestWrittenEnd) == 960..<1_440)
        _ = FrameRingTests.write(ring, at: 480)
        _ = FrameRingTests.write(ring, at: 960)
        #expect(ring.firstGap(from: 0, to: ring.newestWrittenEnd) == nil)
    }

    @Test func aReadSaysWhichFramesWereMissing() {
        let ring = Self.ring()
        _ = FrameRingTests.write(ring, at: 0, count: 100)
        _ = FrameRingTests.write(ring, at: 150, count: 100)
        var output = [Float](repeating: 0, count: 300 * 2)
        var missing = [Bool](repeating: false, count: 300)
        let result = output.withUnsafeMutableBufferPointer { samples in
            missing.withUnsafeMutableBufferPointer { ring.read(from: 0, frameCount: 300, into: samples, missing: $0.baseAddress!) }
        }
        #expect(result == .init(covered: 200, gap: 100))
        #expect(missing == (0..<300).map { (100..<150).contains($0) || $0 >= 250 })
    }
}
