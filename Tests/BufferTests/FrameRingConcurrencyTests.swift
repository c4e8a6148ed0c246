import Buffer
import Core
import Foundation
import Synchronization
import Testing

/// The ring under two real threads, for millions of frames (also run under ThreadSanitizer by
/// `make test`): every sample read is the one written for its position, and every frame is
/// accounted for.
@Suite struct FrameRingConcurrencyTests {
    static let frames = Int(ProcessInfo.processInfo.environment["JAMPLAY_RING_FRAMES"] ?? "") ?? 2_000_000
    static let frameLength = 16
    static let readLength = 40

    static func value(_ position: Int64, _ channel: Int) -> Float { Float((position * 2 + Int64(channel)) % 16_000_000) }

    /// Runs `body` on its own thread; the returned closure waits for it.
    static func spawn(_ body: @escaping @Sendable () -> Void) -> () -> Void {
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            body()
            done.signal()
        }
        thread.start()
        return { done.wait() }
    }

    @Test func aConsumerFollowingTheProducerReadsEverySampleInOrder() {
        let ring = FrameRing(channels: ChannelCount(2), capacity: 64 * Self.frameLength)!
        let produced = Atomic<Int64>(0)
        let badSamples = Atomic<Int>(0)
        let total = Int64(Self.frames * Self.frameLength)
        withExtendedLifetime(ring) {
            let producer = Self.spawn {
                var samples = [Float](repeating: 0, count: Self.frameLength * 2)
                var frame = 0
                while frame < Self.frames {
                    // Pairs of frames swapped now and then: reordering within the window.
                    let number = frame % 7 == 3 && frame + 1 < Self.frames ? frame + 1 : (frame % 7 == 4 ? frame - 1 : frame)
                    let first = Int64(number * Self.frameLength)
                    for offset in 0..<Self.frameLength {
                        samples[offset * 2] = Self.value(first + Int64(offset), 0)
                        samples[offset * 2 + 1] = Self.value(first + Int64(offset), 1)
                    }
                    let outcome = samples.withUnsafeBufferPointer { ring.write(firstSample: first, frameCount: Self.frameLength, samples: $0) }
                    if outcome == .full { sched_yield(); continue }  // the consumer frees slots; retry
                    precondition(outcome == .stored, "unexpected \(outcome)")
                    frame += 1
                    if frame % 7 != 4 { produced.store(Int64(frame * Self.frameLength), ordering: .releasing) }
                }
                produced.store(total, ordering: .releasing)
            }
            let consumer = Self.spawn {
                let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: Self.readLength * 2)
                defer { output.deallocate() }
                var position: Int64 = 0
                while position < total {
                    let count = Int(min(Int64(Self.readLength), total - position))
                    while produced.load(ordering: .acquiring) < position + Int64(count) { sched_yield() }
                    let result = ring.read(from: position, frameCount: count, into: output)
                    var bad = result.gap
                    for offset in 0..<count where output[offset * 2] != Self.value(position + Int64(offset), 0)
                        || output[offset * 2 + 1] != Self.value(position + Int64(offset), 1) {
                        bad += 1
                    }
                    if bad > 0 { badSamples.add(bad, ordering: .relaxed) }
                    position += Int64(count)
                }
            }
            producer()
            consumer()
        }
        #expect(badSamples.load(ordering: .relaxed) == 0)
        #expect(ring.stored == Self.frames && ring.late == 0 && ring.duplicates == 0 && ring.gapFrames == 0)
        #expect(ring.reordered > 0)
    }

    @Test func aConsumerRacingAheadSeesOnlyRightSamplesAndEveryFrameIsCounted() {
        let ring = FrameRing(channels: ChannelCount(2), capacity: 32 * Self.frameLength)!
        let wrongSamples = Atomic<Int>(0)
        let attempts = Atomic<Int>(0)
        let finished = Atomic<Bool>(false)
        let frames = Self.frames / 4
        withExtendedLifetime(ring) {
            let producer = Self.spawn {
                var samples = [Float](repeating: 0, count: Self.frameLength * 2)
                for frame in 0..<frames {
                    let first = Int64(frame * Self.frameLength)
                    for offset in 0..<Self.frameLength {
                        samples[offset * 2] = Self.value(first + Int64(offset), 0)
                        samples[offset * 2 + 1] = Self.value(first + Int64(offset), 1)
                    }
                    _ = samples.withUnsafeBufferPointer { ring.write(firstSample: first, frameCount: Self.frameLength, samples: $0) }
                    attempts.add(1, ordering: .relaxed)
                }
                finished.store(true, ordering: .releasing)
            }
            let consumer = Self.spawn {
                let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: Self.readLength * 2)
                defer { output.deallocate() }
                var position: Int64 = 0
                // Reads at its own pace: sometimes ahead of the producer (gaps, late frames), sometimes behind (full).
                while !finished.load(ordering: .acquiring) || position < Int64(frames * Self.frameLength) {
                    let result = ring.read(from: position, frameCount: Self.readLength, into: output)
                    var wrong = 0
                    for offset in 0..<Self.readLength {
                        let left = output[offset * 2], right = output[offset * 2 + 1]
                        let silent = left == 0 && right == 0
                        if !silent && (left != Self.value(position + Int64(offset), 0) || right != Self.value(position + Int64(offset), 1)) { wrong += 1 }
                    }
                    if wrong > 0 { wrongSamples.add(wrong, ordering: .relaxed) }
                    _ = result
                    position += Int64(Self.readLength)
                }
            }
            producer()
            consumer()
        }
        #expect(wrongSamples.load(ordering: .relaxed) == 0)
        #expect(attempts.load(ordering: .relaxed) == frames)
        #expect(ring.stored + ring.late + ring.duplicates + ring.overflows == frames)
    }
}
