import Core
import Foundation
import Synchronization

/// A record of the playback loop's timing, period by period, for diagnosing the locks: what the
/// device reported, what the device timeline made of it, and how far the first stream was from
/// its timeline. Written to a CSV file when playback stops (`--trace-timing`).
///
/// Thread: `record` from the playback thread (RT; lock-free, non-allocating: a preallocated
/// table, periods past its end are not recorded); `write` from a normal thread after the loop ended.
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
    func record(_ entry: Entry) {
        let index = count.load(ordering: .relaxed)
        guard index < capacity else { return }
        entries[index] = entry
        count.store(index + 1, ordering: .releasing)
    }

    /// Writes the periods recorded so far as CSV.
    public func write(to path: String) throws {
        var text = "written,mixed_at_ns,first_heard_at_ns,status_time_ns,delay_frames,frame_period_ns,stream_error_frames,stream_trim,written_at_ns\n"
        for index in 0..<count.load(ordering: .acquiring) {
            let entry = entries[index]
            text += "\(entry.written),\(entry.mixedAt),\(entry.firstHeardAt),\(entry.statusTime),\(entry.delayFrames),"
                + "\(entry.framePeriod),\(entry.streamError),\(entry.streamTrim),\(entry.writtenAt)\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
