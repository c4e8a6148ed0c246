import Core
import Foundation
import Realtime
import Synchronization

/// `--record PATH.wav`: exactly what is played (the mix, after clipping), written to a 32-bit float
/// WAV file by a normal thread that drains the ``queue`` the playback thread fills.
///
/// The header's sizes are brought up to date every drain, so the file is valid even if the
/// process is killed. Thread: made and finished on a control thread; its writer thread drains.
public final class PlaybackRecorder: @unchecked Sendable {
    /// What the playback thread appends to (four seconds of slack for a slow disk).
    public let queue: RecordingQueue
    /// Frames dropped because the file writer fell behind.
    public var droppedFrames: AtomicCounter { queue.droppedFrames }
    private let descriptor: Int32
    private let stopping = Atomic<Bool>(false)
    private let writerDone = DispatchSemaphore(value: 0)

    /// Creates `path` and starts the writer; `rate` and `channels` are the device's.
    public init(path: String, rate: SampleRate, channels: Int) throws(AlsaError) {
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw AlsaError("--record \(path): \(SystemError.current)") }
        queue = RecordingQueue(channels: channels, capacity: rate.hertz * 4)
        writeHeader(rate: rate, channels: channels)
        Thread.detachNewThread { [self] in drainUntilStopped() }
    }

    deinit { close(descriptor) }

    /// Writes what is left and closes the file.
    public func finish() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        writerDone.wait()
    }

    private func drainUntilStopped() {
        defer { writerDone.signal() }
        while true {
            let last = stopping.load(ordering: .acquiring)
            let frames = queue.drain { samples in _ = write(descriptor, samples.baseAddress, samples.count * 4) }
            // RIFF and data sizes, so the file is complete as it stands.
            let dataBytes = frames * queue.channels * 4
            var data = UInt32(clamping: dataBytes).littleEndian, riff = UInt32(clamping: 36 + dataBytes).littleEndian
            _ = pwrite(descriptor, &riff, 4, 4)
            _ = pwrite(descriptor, &data, 4, 40)
            if last { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    private func writeHeader(rate: SampleRate, channels: Int) {
        var header: [UInt8] = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WAVEfmt ".utf8)
        func put(_ value: Int, _ bytes: Int) { for index in 0..<bytes { header.append(UInt8(truncatingIfNeeded: value >> (8 * index))) } }
        put(16, 4); put(3, 2); put(channels, 2); put(rate.hertz, 4); put(rate.hertz * channels * 4, 4); put(channels * 4, 2); put(32, 2)
        header += Array("data".utf8) + [0, 0, 0, 0]
        _ = header.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }
}
