import Core
import Foundation
import Synchronization

/// `--record PATH.wav`: exactly what is played (the mix, after clipping), written to a 32-bit float
/// WAV file by a normal thread that drains a lock-free ring the playback thread fills.
///
/// `append` is for the playback thread (Thread: playback (RT). Lock-free, non-allocating; when the
/// writer falls behind, frames are dropped and counted rather than waited for). The header's sizes
/// are brought up to date every drain, so the file is valid even if the process is killed.
public final class PlaybackRecorder: @unchecked Sendable {
    /// Frames dropped because the file writer fell behind.
    public let droppedFrames = AtomicCounter()
    /// Frames written to the file (writer thread).
    private var writtenFrames = 0
    private let channels: Int
    private let capacity: Int
    private let ring: UnsafeMutablePointer<Float>
    private let head = Atomic<Int>(0)  // frames appended (playback thread)
    private let tail = Atomic<Int>(0)  // frames written (writer thread)
    private let descriptor: Int32
    private let stopping = Atomic<Bool>(false)
    private let writerDone = DispatchSemaphore(value: 0)

    /// Creates `path` and starts the writer; `rate` and `channels` are the device's.
    public init(path: String, rate: SampleRate, channels: Int) throws {
        self.channels = channels
        capacity = rate.hertz * 4  // four seconds of slack for a slow disk
        ring = .allocate(capacity: capacity * channels)
        ring.initialize(repeating: 0, count: capacity * channels)
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            ring.deallocate()
            throw AlsaError("--record \(path): \(String(cString: strerror(errno)))")
        }
        writeHeader(rate: rate)
        Thread.detachNewThread { [self] in drainUntilStopped() }
    }

    deinit {
        ring.deallocate()
        close(descriptor)
    }

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

    /// Writes what is left and closes the file.
    public func finish() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        writerDone.wait()
    }

    private func drainUntilStopped() {
        defer { writerDone.signal() }
        while true {
            let last = stopping.load(ordering: .acquiring)
            drain()
            if last { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    private func drain() {
        let end = head.load(ordering: .acquiring)
        var start = tail.load(ordering: .relaxed)
        while start < end {
            let index = start % capacity
            let count = min(end - start, capacity - index)
            _ = write(descriptor, ring + index * channels, count * channels * 4)
            start += count
            tail.store(start, ordering: .releasing)
        }
        writtenFrames = start
        // RIFF and data sizes, so the file is complete as it stands.
        var dataBytes = UInt32(clamping: writtenFrames * channels * 4).littleEndian
        var riffBytes = UInt32(clamping: 36 + writtenFrames * channels * 4).littleEndian
        _ = pwrite(descriptor, &riffBytes, 4, 4)
        _ = pwrite(descriptor, &dataBytes, 4, 40)
    }

    private func writeHeader(rate: SampleRate) {
        var header: [UInt8] = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WAVEfmt ".utf8)
        func put(_ value: Int, _ bytes: Int) { for index in 0..<bytes { header.append(UInt8(truncatingIfNeeded: value >> (8 * index))) } }
        put(16, 4); put(3, 2); put(channels, 2); put(rate.hertz, 4); put(rate.hertz * channels * 4, 4); put(channels * 4, 2); put(32, 2)
        header += Array("data".utf8) + [0, 0, 0, 0]
        _ = header.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }
}
