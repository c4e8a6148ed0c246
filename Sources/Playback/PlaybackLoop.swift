import Core
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The body of the playback thread for one open device: every period, the time its next frame
/// will be heard (from the device timeline), the mix of every stream for that time, converted and
/// written. A device that paces (blocks on write) clocks the loop; one that does not (ALSA `null`,
/// the `file` plugin) is paced by absolute sleeps on `CLOCK_MONOTONIC`, as a virtual DAC.
///
/// Thread: playback (RT) for `run`. Lock-free, non-allocating, no logging: it reports through
/// `counters` and returns why it ended. `requestStop` may be called from any thread.
final class PlaybackLoop: @unchecked Sendable {
    /// Why `run` returned.
    enum Ending: Equatable {
        case stopped
        case deviceFailed(code: Int)
        /// The device took no samples for `stuckTimeoutMilliseconds` (a JACK server that died).
        case deviceStopped
    }

    /// How long a pacing device may take no samples before the loop gives it up.
    static let stuckTimeoutMilliseconds: Int32 = 1_000

    let pcm: AlsaPCM
    let paces: Bool
    private let mixer: PlaybackMixer
    private let counters: PlaybackCounters
    private let stop: Atomic<Bool>
    /// The fade-out asked for, frames (0: none).
    private let fade = Atomic<Int>(0)
    private let stall: Atomic<Int64>
    private var converter: SampleConverter
    private let bytes: UnsafeMutableRawPointer
    private(set) var timeline: DeviceTimeline
    private let clock = SystemMonotonicClock()

    private let recorder: PlaybackRecorder?
    private let trace: PlaybackTrace?

    init(pcm: AlsaPCM, paces: Bool, mixer: PlaybackMixer, counters: PlaybackCounters, recorder: PlaybackRecorder?, trace: PlaybackTrace? = nil) {
        self.recorder = recorder
        self.trace = trace
        self.pcm = pcm
        self.paces = paces
        self.mixer = mixer
        self.counters = counters
        self.stop = Atomic(false)
        stall = Atomic(0)
        let negotiated = pcm.negotiated
        converter = SampleConverter(format: negotiated.format)
        bytes = .allocate(byteCount: negotiated.periodFrames * negotiated.channels.rawValue * negotiated.format.bytesPerSample, alignment: 16)
        timeline = DeviceTimeline(nominalRate: negotiated.rate)
    }

    deinit { bytes.deallocate() }

    /// Asks `run` to return after the period in progress, or first to fade the mix out over
    /// `fadeFrames` and let the fade be heard (a buffer of silence after it, which closing drops).
    func requestStop(fadeFrames: Int = 0) {
        if fadeFrames > 0 {
            fade.store(fadeFrames, ordering: .relaxed)
        } else {
            stop.store(true, ordering: .relaxed)
        }
    }

    /// Makes the loop sleep once for `duration` before its next period: a stalled producer, so
    /// tests can cause an underrun.
    func stall(for duration: Nanoseconds) { stall.store(duration.rawValue, ordering: .relaxed) }

    /// Plays until stopped or the device fails beyond recovery.
    func run() -> Ending {
        let period = pcm.negotiated.periodFrames
        let buffer = pcm.negotiated.bufferFrames
        let frameNanoseconds = 1e9 / Double(pcm.negotiated.rate.hertz)
        var written: Int64 = 0
        // Until the first reading: frame 0 is heard once a buffer's worth has been queued.
        timeline.anchor(frame: 0, at: clock.now() + Nanoseconds(Int64(Double(buffer) * frameNanoseconds)))
        // Fade-out progress: frames faded so far, and frames of silence still to write after it.
        var faded = 0, silenceLeft = buffer
        while !stop.load(ordering: .relaxed) {
            let stalled = stall.exchange(0, ordering: .relaxed)
            if stalled > 0 { sleep(until: clock.now() + Nanoseconds(stalled)) }
            if !paces {
                // Virtual DAC: a frame is handed over one buffer ahead of when it is "heard".
                sleep(until: timeline.time(ofFrame: written - Int64(buffer)))
            }
            let firstTime = timeline.time(ofFrame: written)
            var entry = PlaybackTrace.Entry()
            if trace != nil {
                entry.written = written
                entry.mixedAt = clock.now().rawValue
                entry.firstHeardAt = firstTime.rawValue
            }
            mixer.render(frames: period, firstTime: firstTime, deviceRate: timeline.measuredRate)
            entry.streamError = mixer.firstStreamError
            entry.streamTrim = mixer.firstStreamTrim
            let fadeFrames = fade.load(ordering: .relaxed)
            if fadeFrames > 0 {
                if silenceLeft <= 0 { return .stopped }
                applyFade(to: mixer.mix, frames: period, faded: &faded, of: fadeFrames, silenceLeft: &silenceLeft)
            }
            converter.convert(UnsafeBufferPointer(start: mixer.mix, count: period * mixer.channels), into: bytes)
            recorder?.append(mixer.mix, frames: period)
            var offset = 0
            while offset < period {
                // A device that dies may never wake a blocking write: wait with a timeout first.
                var result = paces ? pcm.waitForRoom(timeoutMilliseconds: Self.stuckTimeoutMilliseconds) : 1
                if result == 0 { return .deviceStopped }
                if result > 0 { result = pcm.write(bytes + offset * mixer.channels * pcm.negotiated.format.bytesPerSample, frames: period - offset) }
                if result >= 0 {
                    offset += result
                    continue
                }
                guard pcm.recover(result) else { return .deviceFailed(code: result) }
                // An underrun: the device restarts when its buffer fills again, so the timeline re-anchors.
                counters.xruns.add()
                timeline.anchor(frame: written, at: clock.now() + Nanoseconds(Int64(Double(buffer) * frameNanoseconds)))
            }
            written += Int64(period)
            counters.periods.add()
            if paces && written == Int64(buffer) { learnPointerStep(written: written, for: Nanoseconds(Int64(Double(period) * frameNanoseconds))) }
            if paces, let status = pcm.readStatus() {
                let resets = timeline.resets
                timeline.observe(devicePointer: written - Int64(status.delayFrames), at: status.timestamp)
                if timeline.resets != resets { counters.deviceSlips.add() }
                entry.statusTime = status.timestamp.rawValue
                entry.delayFrames = Int64(status.delayFrames)
            }
            entry.framePeriod = timeline.framePeriod
            trace?.record(entry)
        }
        return .stopped
    }

    /// Ramps `mix` down linearly from where the fade is (`faded` of `total` frames) and counts
    /// the silence written once it is done.
    private func applyFade(to mix: UnsafeMutablePointer<Float>, frames: Int, faded: inout Int, of total: Int, silenceLeft: inout Int) {
        let channels = mixer.channels
        for frame in 0..<frames {
            let gain = Float(max(0, total - faded - frame)) / Float(total)
            for channel in 0..<channels { mix[frame * channels + channel] *= gain }
        }
        if faded >= total { silenceLeft -= frames }
        faded += frames
    }

    /// Polls the device pointer every 200 µs for `duration` (the buffer has just filled, so the
    /// device has more than that queued) to see the unit it steps in.
    private func learnPointerStep(written: Int64, for duration: Nanoseconds) {
        let end = clock.now() + duration
        while clock.now() < end {
            if let status = pcm.readStatus() { timeline.notePointer(written - Int64(status.delayFrames)) }
            sleep(until: clock.now() + .microseconds(200))
        }
    }

    private func sleep(until deadline: Nanoseconds) {
        var time = timespec(tv_sec: Int(deadline.rawValue / 1_000_000_000), tv_nsec: Int(deadline.rawValue % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &time, nil) == EINTR {}
    }
}
