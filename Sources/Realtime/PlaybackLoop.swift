import Buffer
import Core
import Synchronization

/// The body of the playback thread for one open device: every period, the time its first frame
/// will be heard (from the device timeline), the mix of every stream for that time, converted and
/// written as late as the device allows — `fill` before the device takes that frame, mixed as
/// long before that as mixing takes — so a sample needs to be in its ring only that and a period
/// before it is heard, however large the device's buffer. After each write the loop waits for
/// the device to take frames (the reading the timeline learns from, just after the device's
/// pointer moved), then sleeps until the next write — or, while no stream is attached, writes the
/// next period of silence at once, so an idle player wakes once a period. An underrun raises the
/// fill one step. A device that does not pace (ALSA `null`, the `file` plugin) is paced by
/// absolute sleeps on `CLOCK_MONOTONIC`, as a virtual DAC, and underruns as a card would when the
/// loop falls behind by more than its buffer.
///
/// Thread: playback (RT) for `run`. Lock-free, non-allocating, no logging: it reports through
/// `counters` and returns why it ended. `requestStop` may be called from any thread.
package final class PlaybackLoop: @unchecked Sendable {
    /// Why `run` returned.
    package enum Ending: Equatable {
        case stopped
        case deviceFailed(code: Int)
        /// The device took no samples for `stuckTimeoutMilliseconds` (a JACK server that died).
        case deviceStopped
    }

    /// How long a pacing device may take no samples before the loop gives it up.
    package static let stuckTimeoutMilliseconds: Int32 = 1_000

    package let pcm: AlsaPCM
    package let paces: Bool
    private let mixer: PlaybackMixer
    private let counters: PlaybackCounters
    private let stop: Atomic<Bool>
    /// The fade-out asked for, frames (0: none).
    private let fade = Atomic<Int>(0)
    private let stall: Atomic<Int64>
    private var converter: SampleConverter
    private let bytes: UnsafeMutableRawPointer
    package private(set) var timeline: DeviceTimeline
    /// How long before the device takes a period the loop writes it (raised by underruns).
    package private(set) var fill: DeviceFill
    /// Where the loop tells ingest when it mixes each period.
    private let schedule: PublishedDeviceSchedule
    /// How far beyond a period's last frame its mix reads a stream: the farther-reaching of the
    /// two resamplers' filters, and a frame (read here: libsamplerate's is measured on first use).
    private let readAheadFrames = max(PolyphaseResampler.lookAhead, StreamResampler.libsamplerateLookAhead) + 1
    private let clock = SystemMonotonicClock()

    private let recorder: RecordingQueue?
    private let trace: PlaybackTrace?

    package init(pcm: AlsaPCM, paces: Bool, fill: DeviceFill, streamCost: Nanoseconds, schedule: PublishedDeviceSchedule, mixer: PlaybackMixer,
         counters: PlaybackCounters, recorder: RecordingQueue?, trace: PlaybackTrace? = nil) {
        self.streamCost = streamCost
        self.schedule = schedule
        self.recorder = recorder
        self.trace = trace
        self.pcm = pcm
        self.paces = paces
        self.fill = fill
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
    package func requestStop(fadeFrames: Int = 0) {
        if fadeFrames > 0 {
            fade.store(fadeFrames, ordering: .relaxed)
        } else {
            stop.store(true, ordering: .relaxed)
        }
    }

    /// Makes the loop sleep once for `duration` before its next period: a stalled producer, so
    /// tests can cause an underrun.
    package func stall(for duration: Nanoseconds) { stall.store(duration.rawValue, ordering: .relaxed) }

    /// Plays until stopped or the device fails beyond recovery.
    package func run() -> Ending {
        let period = pcm.negotiated.periodFrames
        let frameBytes = mixer.channels * pcm.negotiated.format.bytesPerSample
        var written: Int64 = 0
        var wakeThreshold = 0
        // Whether the device is empty and stopped (at start, after an underrun): it starts with
        // the next write, and takes that period at its first step after it.
        var restarting = true
        counters.fill.set(Int(fill.target.rawValue))
        warmUpEnds = clock.now() + timeline.lockingDuration
        // Fade-out progress: frames faded so far, and frames of silence still to write after it.
        var faded = 0, silenceLeft = pcm.negotiated.bufferFrames
        let bufferDuration = Nanoseconds(Int64(Double(pcm.negotiated.bufferFrames) * timeline.framePeriod))
        while !stop.load(ordering: .relaxed) {
            let stalled = stall.exchange(0, ordering: .relaxed)
            if stalled > 0 { sleep(until: clock.now() + Nanoseconds(stalled)) }
            if restarting {
                // Written as soon as it is mixed, so heard from the step after that.
                let ready = clock.now() + mixAllowance + Self.writeMargin
                timeline.anchor(frame: written, at: timeline.nextStep(after: ready) ?? ready)
            }
            let firstTime = timeline.time(ofFrame: written)
            if !paces && !restarting && clock.now() > firstTime + bufferDuration {
                // A self-paced device (ALSA `null`) never underruns, but a card would have, had
                // the loop fallen behind by more than its buffer: it does the same — counts an
                // underrun and starts again from now — rather than play ever later while the
                // streams' rings fill behind it.
                countUnderrun()
                restarting = true
                continue
            }
            schedule.publish(.init(periodStart: firstTime, period: Nanoseconds(Int64(Double(period) * timeline.framePeriod)),
                                   mixLead: fill.target + mixAllowance, readAhead: Nanoseconds(Int64(Double(readAheadFrames) * timeline.framePeriod))))
            // Idle (no stream attached), a paced device's period of silence is written as soon as
            // it has room: the wake when it takes a period is then the only one, and it keeps the
            // timeline's readings. Once a stream is attached, periods are mixed late again.
            if !restarting && !(paces && !warmingUp && mixer.isIdle) {
                waitToWrite(until: firstTime - lead - mixAllowance, latest: firstTime - fill.target - mixAllowance, written: written)
            }
            let mixedAt = clock.now()
            var entry = PlaybackTrace.Entry()
            if trace != nil {
                entry.written = written
                entry.mixedAt = mixedAt.rawValue
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
            let mixTime = clock.now() - mixedAt
            if restarting, let step = timeline.devicePointerStep {
                // Not before the step ahead of the anchored one, which would take it a step early.
                sleep(until: firstTime - Nanoseconds(Int64(Double(step) * timeline.framePeriod)) + Self.writeMargin)
            }
            restarting = false
            let writeStarted = clock.now()
            if paces, let status = pcm.readStatus() {
                // The wait after this write ends as soon as the device takes any of what it holds then.
                let threshold = status.availableFrames - period + 1
                if threshold != wakeThreshold && pcm.setWakeThreshold(threshold) { wakeThreshold = threshold }
            }
            var offset = 0
            while offset < period {
                let result = pcm.write(bytes + offset * frameBytes, frames: period - offset)
                if result >= 0 {
                    offset += result
                    continue
                }
                // An underrun: the rest of this period is lost (its time has passed).
                guard recoverUnderrun(result) else { return .deviceFailed(code: result) }
                (restarting, wakeThreshold) = (true, 0)
                break
            }
            let writtenAt = clock.now()
            noteRenderTime(mixTime + (writtenAt - writeStarted))
            entry.writtenAt = writtenAt.rawValue
            written += Int64(period)
            counters.periods.add()
            if paces && !restarting {
                // A device that dies may never wake the wait: it has a timeout.
                let woke = pcm.waitForRoom(timeoutMilliseconds: Self.stuckTimeoutMilliseconds)
                if woke == 0 { return .deviceStopped }
                if woke < 0 {
                    guard recoverUnderrun(woke) else { return .deviceFailed(code: woke) }
                    (restarting, wakeThreshold) = (true, 0)
                } else if let status = pcm.readStatus() {
                    let resets = timeline.resets
                    timeline.observe(devicePointer: written - Int64(status.delayFrames), at: status.timestamp)
                    if timeline.resets != resets { counters.deviceSlips.add() }
                    entry.statusTime = status.timestamp.rawValue
                    entry.delayFrames = Int64(status.delayFrames)
                }
            }
            entry.framePeriod = timeline.framePeriod
            trace?.record(entry)
        }
        return .stopped
    }

    /// How long a period takes from the start of its mix until it is in the device: the longest
    /// of the recent ones (a peak that falls by a 128th, and a microsecond, a period: a stall of
    /// the thread is forgotten within seconds).
    private var renderTime = Nanoseconds.zero
    /// How long mixing one more stream takes (measured before playback starts).
    private let streamCost: Nanoseconds

    private func noteRenderTime(_ time: Nanoseconds) {
        renderTime = max(time, renderTime - Nanoseconds(renderTime.rawValue / 128) - .microseconds(1))
        counters.renderTime.set(Int(mixAllowance.rawValue))
    }

    /// How long before its write the loop starts mixing a period: what recent periods took, or
    /// what the streams playing and one more would take, whichever is longer (a stream that
    /// starts must not make the write late).
    private var mixAllowance: Nanoseconds {
        max(renderTime, Nanoseconds(streamCost.rawValue * Int64(counters.streamsPlaying.value + 1)))
    }

    /// When the loop's first seconds end, while the device timeline first locks (its first
    /// readings are rough, and it learns the pointer's step).
    private var warmUpEnds = Nanoseconds.zero

    /// Whether the loop is in its first seconds.
    private var warmingUp: Bool { paces && clock.now() < warmUpEnds }

    /// How long before the device takes a frame the loop writes it: the fill, and a period more
    /// while warming up. (After an underrun the timeline keeps the device's beat: no more.)
    private var lead: Nanoseconds {
        guard warmingUp else { return fill.target }
        return fill.target + Nanoseconds(Int64(Double(pcm.negotiated.periodFrames) * timeline.framePeriod))
    }

    /// Sleeps until `deadline`. While warming up, reads the device pointer every 200 µs
    /// meanwhile, for half a period at least but not past `latest` (the loop then writes a period
    /// early, so there is time), to learn the smallest unit it moves in: readings once a period
    /// see it move a period at a time, and the frame being heard is a step behind it.
    private func waitToWrite(until deadline: Nanoseconds, latest: Nanoseconds, written: Int64) {
        guard warmingUp else { return sleep(until: deadline) }
        let now = clock.now()
        let halfPeriod = Nanoseconds(Int64(Double(pcm.negotiated.periodFrames) * timeline.framePeriod / 2))
        let end = min(max(deadline, now + halfPeriod), latest)
        while clock.now() < end {
            if let status = pcm.readStatus() { timeline.notePointer(written - Int64(status.delayFrames)) }
            sleep(until: min(end, clock.now() + .microseconds(200)))
        }
    }

    /// Recovers from an underrun (or another recoverable error): counts it and raises the fill
    /// a step. False when the device cannot recover.
    private func recoverUnderrun(_ code: Int) -> Bool {
        guard pcm.recover(code) else { return false }
        countUnderrun()
        return true
    }

    /// Counts an underrun and raises the fill a step.
    private func countUnderrun() {
        counters.xruns.add()
        if fill.raise() { counters.fill.set(Int(fill.target.rawValue)) }
    }

    /// How long after a device step a restarting write may come at the earliest, and how long
    /// before its mix ends the step that takes it may come at the latest.
    private static let writeMargin = Nanoseconds.microseconds(200)

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

    /// Sleeps until `deadline`, whatever signals come meanwhile.
    private func sleep(until deadline: Nanoseconds) {
        while !clock.sleep(until: deadline) {}
    }
}
