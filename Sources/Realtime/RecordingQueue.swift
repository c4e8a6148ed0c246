import Core
import Synchronization

/// `--record`'s hand-off: a lock-free ring of interleaved float frames that the playback thread
/// fills with exactly what it plays and a writer thread drains into the file.
///
/// Thread: `append` from the playback thread (RT. Lock-free, non-allocating: when the writer falls
/// behind, frames are dropped and counted rather than waited for); `drain` from one writer thread.
public final class RecordingQueue: @unchecked Sendable {
    /// Frames dropped because the writer fell behind.
    public let droppedFrames = AtomicCounter()
    /// Interleaved channels of every frame.
    public let channels: Int
    private let capacity: Int
    private let ring: UnsafeMutablePointer<Float>
    private let head = Atomic<Int>(0)  // frames appended (playback thread)
    private let tail = Atomic<Int>(0)  // frames drained (writer thread)

    /// Makes room for `capacity` frames of `channels` channels.
    public init(channels: Int, capacity: Int) {
        self.channels = channels
        self.capacity = capacity
        ring = .allocate(capacity: capacity * channels)
        ring.initialize(repeating: 0, count: capacity * channels)
    }

    deinit { ring.deallocate() }

    /// Appends `frames` interleaved frames. Thread: playback (RT).
    public func append(_ samples: UnsafePointer<Float>, frames: Int) {
        let written = head.load(ordering: .relaxed)
        guard written + frames - tail.load(ordering: .acquiring) <= capacity else {
            droppedFrames.add(frames)
            return
        }
        for frame in 0..<frames {
            (ring + ((written + frame) % capacity) * channels).update(from: samples + frame * channels, count: channels)
        }
        head.store(written + frames, ordering: .releasing)
    }

    /// Hands what was appended since the last drain to `write`, in at most two contiguous runs of
    /// whole frames (the ring wraps), and frees their room; returns the frames drained in all.
    /// Thread: the one writer.
    @discardableResult
    public func drain(_ write: (UnsafeBufferPointer<Float>) -> Void) -> Int {
        let end = head.load(ordering: .acquiring)
        var start = tail.load(ordering: .relaxed)
        while start < end {
            let index = start % capacity
            let count = min(end - start, capacity - index)
            write(UnsafeBufferPointer(start: ring + index * channels, count: count * channels))
            start += count
            tail.store(start, ordering: .releasing)
        }
        return start
    }
}
