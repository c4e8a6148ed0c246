import Synchronization

/// A record of the playback loop's timing, period by period, for diagnosing the locks: what the
/// device reported, what the device timeline made of it, and how far the first stream was from
/// its timeline. Written to a CSV file when playback stops (`--trace-timing`, Playback's
/// `write(to:)`).
///
/// Thread: `record` from the playback thread (RT; lock-free, non-allocating: a preallocated
/// table, periods past its end are not recorded); `recorded` from a normal thread.
public final class PlaybackTrace: @unchecked Sendable {
    /// One period.
    public struct Entry: Sendable {
        /// Frames written before this period.
        public var written: Int64 = 0
        /// When the period was mixed, when it was in the device, and when its first frame is due
        /// to be heard (ns).
        public var mixedAt: Int64 = 0, writtenAt: Int64 = 0, firstHeardAt: Int64 = 0
        /// The device status after writing: its timestamp (ns) and delay (frames).
        public var statusTime: Int64 = 0, delayFrames: Int64 = 0
        /// The device timeline's frame period after the reading (ns).
        public var framePeriod: Double = 0
        /// The first playing stream's position error (input frames) and ratio trim.
        public var streamError: Double = .nan, streamTrim: Double = .nan
    }

    private let entries: UnsafeMutablePointer<Entry>
    private let capacity: Int
    private let count = Atomic<Int>(0)

    /// Makes room for `capacity` periods.
    public init(capacity: Int) {
        self.capacity = capacity
        entries = .allocate(capacity: capacity)
        entries.initialize(repeating: Entry(), count: capacity)
    }

    deinit { entries.deallocate() }

    /// Appends one period. Thread: playback (RT). Lock-free, non-allocating.
    package func record(_ entry: Entry) {
        let index = count.load(ordering: .relaxed)
        guard index < capacity else { return }
        entries[index] = entry
        count.store(index + 1, ordering: .releasing)
    }

    /// The periods recorded so far (read them on a normal thread; later ones may follow).
    public var recorded: UnsafeBufferPointer<Entry> {
        UnsafeBufferPointer(start: entries, count: count.load(ordering: .acquiring))
    }
}
