import Core
import Synchronization

/// Predicted audio for one stream's gaps, handed from the concealment worker to the playback
/// thread: a few slots, each holding the prediction of one gap, found by where its gap starts.
///
/// Several gaps can be predicted before playback reaches the first (a latency of tens of
/// milliseconds holds several frames), so each has a slot of its own. The worker takes a slot
/// with ``beginPrediction(for:passed:)``, fills it and ``publish(start:frames:endsOnAudio:)``es it; playback,
/// where a gap starts, claims the slot for that gap with ``claim(start:)`` and holds it while it
/// plays it and crossfades out of it, then lets it go with ``releaseClaim()``. The worker never
/// writes the slot playback holds: each side stores its own mark and then reads the other's,
/// both sequentially consistent, so at least one of them sees the other and steps aside.
/// Thread: one writer (the worker), one reader (playback (RT): lock-free, non-allocating).
public final class PreparedConcealment: @unchecked Sendable {
    /// One prediction: frames of the stream from `start` on, interleaved.
    public struct Prediction {
        /// The stream position of its first frame: the first missing one of the gap it is for.
        public var start: Int64
        /// How many frames it holds.
        public var frames: Int
        /// Whether it ends on the real audio after its gap (two-sided), so that nothing is
        /// crossfaded where the audio resumes.
        public var endsOnAudio: Bool
        /// Its samples.
        public var samples: UnsafeMutablePointer<Float>
    }

    /// Predictions held at once.
    public static var slotCount: Int { 4 }
    /// Interleaved channels.
    public let channels: Int
    /// The most frames a prediction holds.
    public let capacity: Int
    /// The memory it takes, reserved from its budget.
    public let byteCount: ByteCount
    private let budget: BufferBudget?
    private let storage: UnsafeMutablePointer<Float>
    /// Each slot's gap start (`Int64.min`: nothing there), published after its samples and the
    /// fields below (release).
    private let starts: UnsafeMutablePointer<Atomic<Int64>>
    private let frameCounts: UnsafeMutablePointer<Int>
    private let endings: UnsafeMutablePointer<Bool>
    /// The slot playback holds (−1: none).
    private let claimed = Atomic<Int>(-1)
    // Writer-owned: the slot being written, and where the search for the next starts.
    private var writing = -1, nextSlot = 0

    /// The memory for predictions of up to `capacity` frames of `channels` channels.
    public static func byteCount(capacity: Int, channels: ChannelCount) -> ByteCount {
        ByteCount(slotCount * capacity * channels.rawValue * MemoryLayout<Float>.size)
    }

    /// Makes room for predictions of up to `capacity` frames, reserving it from `budget` first;
    /// nil when the budget refuses it.
    public init?(channels: ChannelCount, capacity: Int, budget: BufferBudget? = nil) {
        precondition(capacity > 0, "a prediction needs room")
        let bytes = Self.byteCount(capacity: capacity, channels: channels)
        if let budget, !budget.reserve(bytes) { return nil }
        self.budget = budget
        byteCount = bytes
        self.channels = channels.rawValue
        self.capacity = capacity
        let count = Self.slotCount
        storage = .allocate(capacity: count * capacity * channels.rawValue)
        storage.initialize(repeating: 0, count: count * capacity * channels.rawValue)
        starts = .allocate(capacity: count)
        for slot in 0..<count { (starts + slot).initialize(to: Atomic(.min)) }
        frameCounts = .allocate(capacity: count)
        frameCounts.initialize(repeating: 0, count: count)
        endings = .allocate(capacity: count)
        endings.initialize(repeating: false, count: count)
    }

    deinit {
        storage.deallocate()
        starts.deinitialize(count: Self.slotCount)
        starts.deallocate()
        frameCounts.deallocate()
        endings.deallocate()
        budget?.release(byteCount)
    }

    private func samples(of slot: Int) -> UnsafeMutablePointer<Float> { storage + slot * capacity * channels }

    // MARK: - Writer (the concealment worker)

    /// Takes a slot for the prediction of the gap that starts at `start`, and returns where to
    /// write it: ``capacity`` × ``channels`` samples. The slot is, in this order of preference,
    /// one that holds an earlier prediction of the same gap, one that holds nothing or a gap
    /// before `passed` (where playback has read up to: played), or the one published longest
    /// ago — never the one playback holds; what it held is gone. Thread: the writer.
    public func beginPrediction(for start: Int64, passed: Int64 = .min) -> UnsafeMutablePointer<Float> {
        var choice = -1
        for preference in 0..<3 where choice < 0 {
            for attempt in 0..<Self.slotCount {
                let slot = (nextSlot + attempt) % Self.slotCount
                let held = starts[slot].load(ordering: .relaxed)
                let wanted = preference == 0 ? held == start : preference == 1 ? held == .min || held < passed : true
                guard wanted else { continue }
                starts[slot].store(.min, ordering: .sequentiallyConsistent)
                guard claimed.load(ordering: .sequentiallyConsistent) != slot else { continue }
                choice = slot
                break
            }
        }
        precondition(choice >= 0, "playback holds one slot at most")
        writing = choice
        nextSlot = (choice + 1) % Self.slotCount
        return samples(of: choice)
    }

    /// Hands the prediction written since ``beginPrediction(for:passed:)`` to playback: `frames` frames for
    /// the gap that starts at stream position `start` (an earlier prediction for the same gap
    /// is withdrawn, unless playback already holds it). Thread: the writer.
    public func publish(start: Int64, frames: Int, endsOnAudio: Bool) {
        guard writing >= 0, start != .min else { return }
        frameCounts[writing] = min(max(0, frames), capacity)
        endings[writing] = endsOnAudio
        for slot in 0..<Self.slotCount where slot != writing && starts[slot].load(ordering: .relaxed) == start {
            starts[slot].store(.min, ordering: .releasing)
        }
        starts[writing].store(start, ordering: .releasing)
        writing = -1
    }

    // MARK: - Reader (playback)

    /// Claims the prediction for the gap that starts at `start`, if one was published, and
    /// holds it (the worker leaves it alone) until ``releaseClaim()``; nil if there is none.
    /// Thread: playback (RT). Lock-free, non-allocating.
    public func claim(start: Int64) -> Prediction? {
        releaseClaim()
        for slot in 0..<Self.slotCount where starts[slot].load(ordering: .acquiring) == start {
            claimed.store(slot, ordering: .sequentiallyConsistent)
            // The worker may have taken the slot between the two loads: then it is not ours.
            guard starts[slot].load(ordering: .sequentiallyConsistent) == start else { break }
            return Prediction(start: start, frames: frameCounts[slot], endsOnAudio: endings[slot], samples: samples(of: slot))
        }
        claimed.store(-1, ordering: .releasing)
        return nil
    }

    /// Lets the claimed prediction go. Thread: playback (RT). Lock-free, non-allocating.
    public func releaseClaim() {
        claimed.store(-1, ordering: .releasing)
    }
}
