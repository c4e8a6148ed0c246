import Core
import Synchronization

/// One stream's jitter buffer: a single-producer single-consumer lock-free ring of sample frames,
/// each kept at its position on the stream timeline (position modulo the capacity).
///
/// The producer (ingest) writes each frame's samples at their positions; the consumer (playback)
/// asks for positions [index, index + count) and gets the samples stored there — so reordering is
/// undone by where they land — with silence, counted as gap, where none is. Each slot carries the
/// position it holds (a tag, stored after its samples with release ordering), so the reader takes
/// only what was written for the very position it reads. The reader publishes how far it has read:
/// positions before its last read's end are late, positions before its last read's start are
/// never read again and their slots may be reused; a slot still holding a position the reader may
/// read is never overwritten (the frame that wants it is refused as `full`: too far ahead). Writes
/// and reads take time in proportion to the frames they move. Nothing allocates after `init`.
///
/// With `retained` frames, the ring also keeps that many frames behind the reader (their slots are
/// not reused) for a third thread, the concealment worker, which copies what is stored around a
/// gap with ``peek(from:frameCount:into:present:)`` to predict what is missing.
///
/// Thread: exactly one producer thread calls ``write(firstSample:frameCount:samples:)``; exactly
/// one consumer thread calls ``read(from:frameCount:into:missing:)`` (Thread: playback (RT).
/// Lock-free, non-allocating); any one thread may peek. Counters may be read from any thread.
public final class FrameRing: @unchecked Sendable {
    /// What became of a written frame.
    public enum WriteOutcome: Hashable, Sendable {
        /// Its samples (those not already stored, and not yet passed) are in the ring.
        case stored
        /// Every sample is at a position the consumer has passed.
        case late
        /// Every sample not yet passed is already stored.
        case duplicate
        /// A slot it needs still holds a sample the consumer has yet to read: it is too far ahead.
        case full
        /// More sample frames than the ring holds.
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
    /// Sample frames the ring holds.
    public let capacity: Int
    /// Sample frames kept behind the reader for ``peek(from:frameCount:into:present:)``.
    public let retained: Int
    /// The memory it takes (samples and tags), reserved from its budget.
    public let byteCount: ByteCount
    private let budget: BufferBudget?

    /// An empty slot's tag: no position (frames never start there).
    @inline(__always) private static var empty: Int64 { .min }

    // Producer-owned: the end of the newest frame written (also published, for the worker).
    private var newestEnd: Int64 = .min
    private let publishedNewestEnd = Atomic<Int64>(.min)

    // Shared: samples and the position each slot holds (written by the producer, release), and
    // the consumer's progress (written by the consumer, release).
    private let storage: UnsafeMutablePointer<Float>
    private let tags: UnsafeMutablePointer<Atomic<Int64>>
    /// Positions before it are never read again: their slots may be reused.
    private let readStart = Atomic<Int64>(.min)
    /// Positions before it have been read (or skipped): frames for them are late.
    private let readEnd = Atomic<Int64>(.min)

    private let storedCount = Atomic<Int>(0)
    private let lateCount = Atomic<Int>(0)
    private let duplicateCount = Atomic<Int>(0)
    private let reorderedCount = Atomic<Int>(0)
    private let fullCount = Atomic<Int>(0)
    private let tooLargeCount = Atomic<Int>(0)
    private let gapFrameCount = Atomic<Int>(0)

    /// The memory a ring of `capacity` frames of `channels` takes: 4 bytes a sample, 8 a frame's tag.
    public static func byteCount(capacity: Int, channels: ChannelCount) -> ByteCount {
        ByteCount(capacity * (channels.rawValue * MemoryLayout<Float>.size + MemoryLayout<Int64>.size))
    }

    /// Makes a ring of `capacity` sample frames of `channels` each, `retained` of them kept behind
    /// the reader, reserving its memory from `budget` first; nil when the budget refuses it.
    public init?(channels: ChannelCount, capacity: Int, retained: Int = 0, budget: BufferBudget? = nil) {
        precondition(capacity > 0 && ChannelCount.supported.contains(channels.rawValue), "a ring needs room and 1…64 channels")
        precondition(retained >= 0 && retained < capacity, "a ring retains less than it holds")
        let bytes = Self.byteCount(capacity: capacity, channels: channels)
        if let budget, !budget.reserve(bytes) { return nil }
        self.budget = budget
        byteCount = bytes
        self.channels = channels.rawValue
        self.capacity = capacity
        self.retained = retained
        // The samples are not cleared: a slot is read only once its tag says it was written, so
        // pages are touched (and, under `mlockall`, locked) as the stream fills them.
        storage = .allocate(capacity: capacity * channels.rawValue)
        tags = .allocate(capacity: capacity)
        for slot in 0..<capacity { (tags + slot).initialize(to: Atomic(Self.empty)) }
    }

    deinit {
        storage.deallocate()
        tags.deinitialize(count: capacity)
        tags.deallocate()
        budget?.release(byteCount)
    }

    /// The slot of a position (positions may be negative).
    @inline(__always)
    private func slotIndex(of position: Int64) -> Int {
        let remainder = Int(position % Int64(capacity))
        return remainder < 0 ? remainder + capacity : remainder
    }

    // MARK: - Producer

    /// Stores a frame whose first sample frame is at `firstSample` on the stream timeline.
    /// `samples` holds `frameCount` × ``channels`` interleaved samples.
    /// Thread: the producer. Lock-free, non-allocating.
    @discardableResult
    public func write(firstSample: Int64, frameCount: Int, samples: UnsafeBufferPointer<Float>) -> WriteOutcome {
        precondition(frameCount > 0 && samples.count == frameCount * channels, "samples must be frameCount × channels, at least one frame")
        guard frameCount <= capacity, firstSample > Self.empty, firstSample <= Int64.max - Int64(frameCount) else {
            tooLargeCount.add(1, ordering: .relaxed)
            return .tooLarge
        }
        let end = firstSample + Int64(frameCount)
        let passed = readEnd.load(ordering: .acquiring)
        if end <= passed { lateCount.add(1, ordering: .relaxed); return .late }
        let from = max(firstSample, passed)
        // First every slot: already there, free, or holding a sample still to be read or kept
        // (a tag at or after `blocking`: empty slots hold `empty`, below it). Slots run in at
        // most two stretches, up to the ring's end and from its start.
        // (`while` loops: a debug build allocates in `for` over a range of `Int64`.)
        let blocking = keptFrom(readStart.load(ordering: .acquiring))
        let firstSlot = slotIndex(of: from)
        let count = Int(end - from)
        let beforeWrap = min(count, capacity - firstSlot)
        var present = 0
        var offset = 0
        while offset < count {
            let slot = offset < beforeWrap ? firstSlot + offset : offset - beforeWrap
            let stretch = offset < beforeWrap ? beforeWrap : count
            var position = from + Int64(offset)
            var tag = tags + slot
            while offset < stretch {
                let held = tag.pointee.load(ordering: .relaxed)  // only this thread writes tags
                if held == position {
                    present += 1
                } else if held >= blocking {
                    fullCount.add(1, ordering: .relaxed)
                    return .full
                }
                tag += 1
                position += 1
                offset += 1
            }
        }
        guard present < count else { duplicateCount.add(1, ordering: .relaxed); return .duplicate }
        // Then the samples, and each slot's tag after them (release: a reader that sees the tag sees them).
        let source = samples.baseAddress! + Int(from - firstSample) * channels
        if present == 0 {
            // The usual case: one copy up to the ring's end, one from its start.
            // (`initialize`: a slot's first write is into memory never written; `Float` is trivial.)
            (storage + firstSlot * channels).initialize(from: source, count: beforeWrap * channels)
            if beforeWrap < count { storage.initialize(from: source + beforeWrap * channels, count: (count - beforeWrap) * channels) }
            var tag = tags + firstSlot, position = from
            let wrap = from + Int64(beforeWrap)
            while position < end {
                if position == wrap { tag = tags }
                tag.pointee.store(position, ordering: .releasing)
                tag += 1
                position += 1
            }
        } else {
            // Overlapping what is stored: only the missing samples (the first stored stay).
            var frame = source
            var slot = firstSlot
            var position = from
            while position < end {
                if tags[slot].load(ordering: .relaxed) != position {
                    (storage + slot * channels).initialize(from: frame, count: channels)
                    tags[slot].store(position, ordering: .releasing)
                }
                frame += channels
                slot = slot + 1 == capacity ? 0 : slot + 1
                position += 1
            }
        }
        if end <= newestEnd { reorderedCount.add(1, ordering: .relaxed) }
        newestEnd = max(newestEnd, end)
        publishedNewestEnd.store(newestEnd, ordering: .releasing)
        storedCount.add(1, ordering: .relaxed)
        return .stored
    }

    // MARK: - Consumer

    /// Fills `output` with the interleaved samples of positions [index, index + frameCount): the
    /// stored ones, and silence (counted as gap) where none is stored or the position is before
    /// an earlier read's start (read once, its slot may hold another now); `missing`, if given
    /// (`frameCount` entries), says which. Later writes before the read's end are late.
    /// Thread: playback (RT). Lock-free, non-allocating.
    @discardableResult
    public func read(from index: Int64, frameCount: Int, into output: UnsafeMutableBufferPointer<Float>,
                     missing: UnsafeMutablePointer<Bool>? = nil) -> ReadResult {
        output.update(repeating: 0)
        missing?.update(repeating: true, count: max(0, frameCount))
        guard frameCount > 0, index > Self.empty, index <= Int64.max - Int64(frameCount), output.count >= frameCount * channels else {
            return ReadResult(covered: 0, gap: max(0, frameCount))
        }
        let end = index + Int64(frameCount)
        // Release what earlier reads took (their slots may be reused), and mark this read's span passed.
        let start = max(index, readStart.load(ordering: .relaxed))
        readStart.store(start, ordering: .releasing)
        if end > readEnd.load(ordering: .relaxed) { readEnd.store(end, ordering: .releasing) }
        var covered = 0
        if start < end {
            // Runs of stored frames, each copied at once (a run ends at a missing frame or the ring's end).
            let target = output.baseAddress! + Int(start - index) * channels
            var slot = slotIndex(of: start)
            var position = start, runStart = start, runSlot = slot
            while position < end {
                let stored = tags[slot].load(ordering: .acquiring) == position
                let next = slot + 1 == capacity ? 0 : slot + 1
                if !stored || next == 0 {
                    let copied = copyRun(runStart..<(stored ? position + 1 : position), from: runSlot, to: target + Int(runStart - start) * channels)
                    covered += copied
                    if let missing { (missing + Int(runStart - index)).update(repeating: false, count: copied) }
                    runStart = position + 1
                    runSlot = next
                }
                slot = next
                position += 1
            }
            let copied = copyRun(runStart..<end, from: runSlot, to: target + Int(runStart - start) * channels)
            covered += copied
            if let missing { (missing + Int(runStart - index)).update(repeating: false, count: copied) }
        }
        let gap = frameCount - covered
        if gap > 0 { gapFrameCount.add(gap, ordering: .relaxed) }
        return ReadResult(covered: covered, gap: gap)
    }

    /// Copies the frames of `positions`, stored from `slot` on without wrapping, to `target`; their count.
    /// (A method, not a closure: a closure capturing the count would allocate in a debug build.)
    @inline(__always)
    private func copyRun(_ positions: Range<Int64>, from slot: Int, to target: UnsafeMutablePointer<Float>) -> Int {
        let frames = Int(positions.upperBound - positions.lowerBound)
        if frames > 0 { target.update(from: storage + slot * channels, count: frames * channels) }
        return frames
    }

    // MARK: - Peeking (the concealment worker)

    /// The end of the newest frame written (`Int64.min` before any). Thread: any.
    public var newestWrittenEnd: Int64 { publishedNewestEnd.load(ordering: .acquiring) }

    /// Where the reader's last read ended: positions before it have been played or passed
    /// (`Int64.min` before the first read). Thread: any.
    public var readPosition: Int64 { readEnd.load(ordering: .acquiring) }

    /// Copies the stored samples of positions [index, index + frameCount) to `output` (silence
    /// elsewhere) and says which were stored in `present`; false (nothing to use) when a slot
    /// may have been reused while copying: the reader had moved more than ``retained`` frames
    /// past `index`.
    /// Thread: one thread beside the producer and the reader. Lock-free, non-allocating.
    public func peek(from index: Int64, frameCount: Int, into output: UnsafeMutablePointer<Float>,
                     present: UnsafeMutablePointer<Bool>) -> Bool {
        guard frameCount > 0, frameCount <= capacity, index > Self.empty, index <= Int64.max - Int64(frameCount) else { return false }
        // The slots stay as they are while the reader has not released them: positions at or after
        // its read start less what it retains (that bound only moves forward).
        guard index >= keptFrom(readStart.load(ordering: .acquiring)) else { return false }
        var slot = slotIndex(of: index)
        for offset in 0..<frameCount {
            let position = index + Int64(offset)
            let stored = tags[slot].load(ordering: .acquiring) == position
            present[offset] = stored
            let target = output + offset * channels
            if stored { target.update(from: storage + slot * channels, count: channels) } else { target.update(repeating: 0, count: channels) }
            slot = slot + 1 == capacity ? 0 : slot + 1
        }
        return index >= keptFrom(readStart.load(ordering: .acquiring))
    }

    /// The first run of positions in [from, to) with nothing stored that a stored position
    /// follows — a gap the frames after it have already come for — or nil.
    /// Thread: like ``peek(from:frameCount:into:present:)``. Lock-free, non-allocating.
    public func firstGap(from: Int64, to: Int64) -> Range<Int64>? {
        guard from > Self.empty, from < to else { return nil }
        // Only the newest `capacity` positions can be stored.
        let (span, overflow) = to.subtractingReportingOverflow(from)
        var position = overflow || span > Int64(capacity) ? to - Int64(capacity) : from
        var slot = slotIndex(of: position)
        var gapStart: Int64?
        while position < to {
            let stored = tags[slot].load(ordering: .acquiring) == position
            if !stored {
                if gapStart == nil { gapStart = position }
            } else if let start = gapStart {
                return start..<position
            }
            slot = slot + 1 == capacity ? 0 : slot + 1
            position += 1
        }
        return nil
    }

    /// The first position whose slot is kept with the reader's read start at `readStart`:
    /// ``retained`` frames before it (the first possible position when that is before any).
    @inline(__always)
    private func keptFrom(_ readStart: Int64) -> Int64 {
        let (bound, overflow) = readStart.subtractingReportingOverflow(Int64(retained))
        return overflow ? Self.empty + 1 : max(bound, Self.empty + 1)
    }

    // MARK: - Fill (producer thread)

    /// Samples stored ahead of the reader: from its last read's end to the newest sample written
    /// (0 before the first read). Thread: the producer (the newest sample is its own).
    public var bufferedSamples: Int {
        let position = readEnd.load(ordering: .relaxed)
        guard position != .min, newestEnd != .min else { return 0 }
        let (ahead, overflow) = newestEnd.subtractingReportingOverflow(position)
        return overflow ? 0 : Int(min(max(0, ahead), Int64(capacity)))
    }

    // MARK: - Counters (any thread)

    /// Frames stored (wholly or in part).
    public var stored: Int { storedCount.load(ordering: .relaxed) }
    /// Frames dropped on arrival because their time had passed.
    public var late: Int { lateCount.load(ordering: .relaxed) }
    /// Frames dropped as duplicates.
    public var duplicates: Int { duplicateCount.load(ordering: .relaxed) }
    /// Frames stored behind a later one (put back in order by their positions).
    public var reordered: Int { reorderedCount.load(ordering: .relaxed) }
    /// Frames dropped for want of a free slot (too far ahead of the reader).
    public var overflows: Int { fullCount.load(ordering: .relaxed) }
    /// Frames dropped as larger than the ring.
    public var tooLarge: Int { tooLargeCount.load(ordering: .relaxed) }
    /// Sample frames read as silence because no frame covered them.
    public var gapFrames: Int { gapFrameCount.load(ordering: .relaxed) }
}
