import Core
import Synchronization

/// One stream's jitter buffer: a single-producer single-consumer lock-free ring of preallocated
/// frame slots, read by sample position.
///
/// The producer (ingest) stores each frame with the index of its first sample on the stream
/// timeline, in arrival order; the consumer (playback) asks for the samples of positions
/// [index, index + count) and gets them from whichever stored frames cover them — so reordering
/// within the ring is undone — with silence, counted as gap, where none does. Frames whose
/// samples the consumer has already passed are dropped as late; frames overlapping one already
/// stored are dropped as duplicates. Nothing allocates after `init`.
///
/// Thread: exactly one producer thread calls ``write(firstSample:frameCount:samples:)``; exactly
/// one consumer thread calls ``read(from:frameCount:into:)`` (Thread: playback (RT). Lock-free,
/// non-allocating). Counters may be read from any thread.
public final class FrameRing: @unchecked Sendable {
    /// What became of a written frame.
    public enum WriteOutcome: Hashable, Sendable {
        case stored
        /// Every sample is at a position the consumer has passed.
        case late
        /// It overlaps a frame already in the ring.
        case duplicate
        /// No free slot: the consumer is not keeping up (or the frame is too far ahead).
        case full
        /// More sample frames than a slot holds.
        case tooLarge
    }

    /// What a read found.
    public struct ReadResult: Hashable, Sendable {
        /// Sample frames taken from stored frames.
        public var covered: Int
        /// Sample frames with no frame: written as silence.
        public var gap: Int

        /// Makes a result.
        public init(covered: Int, gap: Int) {
            self.covered = covered
            self.gap = gap
        }
    }

    /// Interleaved channels of every frame.
    public let channels: Int
    /// Slots in the ring.
    public let slotCount: Int
    /// The most sample frames one slot holds.
    public let slotFrames: Int

    // Producer-owned: the next slot to fill, and its copy of every slot's span.
    private var head = 0
    private var newestEnd: Int64 = .min
    // Consumer-owned: slots finished but not yet released because an earlier one is still live.
    private let finished: UnsafeMutablePointer<Bool>

    // Shared: slot spans and samples (published by `publishedHead`), the released tail, the read position.
    private let firstSamples: UnsafeMutablePointer<Int64>
    private let frameCounts: UnsafeMutablePointer<Int>
    private let storage: UnsafeMutablePointer<Float>
    private let publishedHead = Atomic<Int>(0)
    private let releasedTail = Atomic<Int>(0)
    private let readPosition = Atomic<Int64>(.min)

    private let storedCount = Atomic<Int>(0)
    private let lateCount = Atomic<Int>(0)
    private let duplicateCount = Atomic<Int>(0)
    private let reorderedCount = Atomic<Int>(0)
    private let fullCount = Atomic<Int>(0)
    private let tooLargeCount = Atomic<Int>(0)
    private let gapFrameCount = Atomic<Int>(0)
    private let expiredCount = Atomic<Int>(0)

    /// Makes a ring of `slotCount` slots of up to `slotFrames` sample frames of `channels` each.
    public init(channels: ChannelCount, slotCount: Int = 256, slotFrames: Int = 4_096) {
        precondition(slotCount > 1 && slotFrames > 0, "a ring needs slots")
        self.channels = channels.rawValue
        self.slotCount = slotCount
        self.slotFrames = slotFrames
        finished = .allocate(capacity: slotCount)
        finished.initialize(repeating: false, count: slotCount)
        firstSamples = .allocate(capacity: slotCount)
        firstSamples.initialize(repeating: 0, count: slotCount)
        frameCounts = .allocate(capacity: slotCount)
        frameCounts.initialize(repeating: 0, count: slotCount)
        storage = .allocate(capacity: slotCount * slotFrames * channels.rawValue)
        storage.initialize(repeating: 0, count: slotCount * slotFrames * channels.rawValue)
    }

    deinit {
        finished.deallocate()
        firstSamples.deallocate()
        frameCounts.deallocate()
        storage.deallocate()
    }

    // MARK: - Producer

    /// Stores a frame whose first sample frame is at `firstSample` on the stream timeline.
    /// `samples` holds `frameCount` × ``channels`` interleaved samples.
    /// Thread: the producer. Lock-free, non-allocating.
    @discardableResult
    public func write(firstSample: Int64, frameCount: Int, samples: UnsafeBufferPointer<Float>) -> WriteOutcome {
        precondition(samples.count == frameCount * channels, "samples must be frameCount × channels")
        guard frameCount <= slotFrames else { tooLargeCount.add(1, ordering: .relaxed); return .tooLarge }
        let end = firstSample + Int64(frameCount)
        let consumed = readPosition.load(ordering: .acquiring)
        if end <= consumed { lateCount.add(1, ordering: .relaxed); return .late }
        let tail = releasedTail.load(ordering: .acquiring)
        // Live slots are tail..<head; their spans are ours to read (we wrote them).
        var slot = tail
        while slot != head {
            let index = slot % slotCount
            if firstSamples[index] < end && firstSample < firstSamples[index] + Int64(frameCounts[index]) {
                duplicateCount.add(1, ordering: .relaxed)
                return .duplicate
            }
            slot += 1
        }
        guard head - tail < slotCount else { fullCount.add(1, ordering: .relaxed); return .full }
        let index = head % slotCount
        firstSamples[index] = firstSample
        frameCounts[index] = frameCount
        (storage + index * slotFrames * channels).update(from: samples.baseAddress!, count: samples.count)
        head += 1
        publishedHead.store(head, ordering: .releasing)
        if end <= newestEnd { reorderedCount.add(1, ordering: .relaxed) }
        newestEnd = max(newestEnd, end)
        storedCount.add(1, ordering: .relaxed)
        return .stored
    }

    // MARK: - Consumer

    /// Fills `output` with the interleaved samples of positions [index, index + frameCount): from
    /// stored frames where they cover it, silence (counted as gap) where none does. Frames wholly
    /// before the end of the read are released; later writes before it are dropped as late.
    /// Thread: playback (RT). Lock-free, non-allocating.
    @discardableResult
    public func read(from index: Int64, frameCount: Int, into output: UnsafeMutableBufferPointer<Float>) -> ReadResult {
        let end = index + Int64(frameCount)
        // Publish first: a frame the producer checks from now on against this read is late.
        readPosition.store(end, ordering: .releasing)
        let head = publishedHead.load(ordering: .acquiring)
        var tail = releasedTail.load(ordering: .relaxed)
        output.update(repeating: 0)
        var covered = 0
        var slot = tail
        while slot != head {
            let ring = slot % slotCount
            let first = firstSamples[ring]
            let last = first + Int64(frameCounts[ring])
            let from = max(first, index), to = min(last, end)
            if from < to {
                let source = storage + ring * slotFrames * channels + Int(from - first) * channels
                let target = output.baseAddress! + Int(from - index) * channels
                target.update(from: source, count: Int(to - from) * channels)
                covered += Int(to - from)
            }
            if last <= index && !finished[ring] {
                // Stored just before a read passed it: never played.
                expiredCount.add(1, ordering: .relaxed)
            }
            if last <= end { finished[ring] = true }
            slot += 1
        }
        while tail != head && finished[tail % slotCount] {
            finished[tail % slotCount] = false
            tail += 1
        }
        releasedTail.store(tail, ordering: .releasing)
        let gap = frameCount - covered
        if gap > 0 { gapFrameCount.add(gap, ordering: .relaxed) }
        return ReadResult(covered: covered, gap: gap)
    }

    // MARK: - Fill (producer thread)

    /// Samples stored ahead of the reader: from its next read to the newest sample written (0
    /// before the first read). Thread: the producer (the newest sample is its own).
    public var bufferedSamples: Int {
        let position = readPosition.load(ordering: .relaxed)
        return position == .min || newestEnd == .min ? 0 : Int(max(0, newestEnd - position))
    }

    // MARK: - Counters (any thread)

    /// Frames stored.
    public var stored: Int { storedCount.load(ordering: .relaxed) }
    /// Frames dropped on arrival because their time had passed.
    public var late: Int { lateCount.load(ordering: .relaxed) }
    /// Frames stored, but passed by a read before any of them was read (counted in ``stored`` too).
    public var expired: Int { expiredCount.load(ordering: .relaxed) }
    /// Frames dropped as duplicates.
    public var duplicates: Int { duplicateCount.load(ordering: .relaxed) }
    /// Frames stored behind a later one (put back in order by the reads).
    public var reordered: Int { reorderedCount.load(ordering: .relaxed) }
    /// Frames dropped for want of a free slot.
    public var overflows: Int { fullCount.load(ordering: .relaxed) }
    /// Frames dropped as larger than a slot.
    public var tooLarge: Int { tooLargeCount.load(ordering: .relaxed) }
    /// Sample frames read as silence because no frame covered them.
    public var gapFrames: Int { gapFrameCount.load(ordering: .relaxed) }
}
