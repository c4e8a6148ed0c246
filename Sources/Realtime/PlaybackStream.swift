import Buffer
import Core

/// One stream as the real-time thread plays it: reads its ring at the positions its published
/// timeline says are due, through a resampler whose ratio a PI loop trims so the heard position
/// stays locked to the timeline.
///
/// Made (with every buffer it needs) on a normal thread; `render` is called by the playback
/// thread only. Thread: playback (RT). Lock-free, non-allocating.
public final class PlaybackStream {
    /// How far the heard position may drift from the timeline before it jumps (re-anchors)
    /// instead of being pulled back by resampling, in seconds: far above the lock's steady error
    /// (microseconds), below a device period, so a device whose timing slips by a period is
    /// followed at once rather than by seconds of bent pitch.
    public static let reanchorThreshold = 0.002
    /// PI gains on the position error (input frames): proportional per frame of error, and
    /// integral per frame-second. At 48 kHz the loop's natural frequency is about 1 Hz, damping
    /// 0.7: it follows the device timeline's phase as it moves (a loop ten times slower lags it by
    /// a frame or two) without audible pitch change (a 1-frame error moves the ratio by
    /// 200 ppm, a third of a cent, and the error it sees is smooth: both timelines are filtered).
    public static let proportionalGain = 2e-4, integralGain = 1e-3
    /// The most the loop may move the ratio from what the clock chain says, relative.
    public static let authority = 0.002
    /// The lowest stream rate (sample frames per local second) a published line may give to be
    /// played; a line below it or above ``highestPlayableRate`` (which no clock chain publishes)
    /// is silence. Computed, not stored: a stored static is made on first use, which may allocate,
    /// and its first use would be on the real-time thread.
    @inline(__always) public static var lowestPlayableRate: Double { 0.5 }
    /// The highest stream rate a published line may give to be played: jamnet's highest and then some.
    @inline(__always) public static var highestPlayableRate: Double { 2_000_000 }
    /// Sample indices beyond this magnitude are not played (a stream reaches 2^52; and an integer
    /// conversion below it cannot trap).
    @inline(__always) static var indexLimit: Double { 0x1p62 }

    /// Interleaved channels of the stream.
    public let channels: Int
    /// The stream as ingest handed it over: kept here so that its ring and timeline live as long
    /// as this does. Not for the playback thread, which reads them through the two references
    /// below and must not retain or release anything.
    public let handoff: StreamHandoff
    private unowned(unsafe) let ring: FrameRing
    private unowned(unsafe) let timeline: PublishedTimeline
    private let counters: PlaybackCounters
    private let resampler: StreamResampler
    private let staging: UnsafeMutablePointer<Float>
    private let stagingCapacity: Int
    /// Which staged frames the ring did not have (for the gap filler).
    private let missing: UnsafeMutablePointer<Bool>
    /// Plays the worker's predictions in the stream's gaps (nil: concealment off).
    private var gapFiller: GapFiller?
    private var stagedFrames = 0
    /// Stream index of the next frame to read from the ring (just after the staged ones).
    private var nextRead: Int64 = 0
    /// Input-domain position of the next output frame (the sample heard then).
    private var position: Double = 0
    private var integral: Double = 0
    private var lastRatio: Double = 0
    private var isPlaying = false
    private var pendingGap = 0
    /// The timeline's line as last read: kept when a publish is in progress for too long to wait.
    private var lastLine: PublishedTimeline.Line?
    /// The position error of the last period, in input frames and in nanoseconds, and its ratio trim.
    private(set) var lastError: Double = 0, lastErrorNanoseconds: Double = 0, lastTrim: Double = 0

    /// Prepares to play the stream `handoff` brings; `maximumPeriod` bounds the frames of one
    /// render call; with `concealment`, its gaps are filled from the predictions it brings.
    public init(_ handoff: StreamHandoff, maximumPeriod: Int, counters: PlaybackCounters, concealment: ConcealmentSettings? = nil) {
        self.handoff = handoff
        let ring = handoff.ring
        self.ring = ring
        timeline = handoff.timeline
        self.counters = counters
        channels = ring.channels
        resampler = StreamResampler(channels: ring.channels)
        _ = StreamResampler.libsamplerateDelay  // measured here, off the playback thread
        // Enough input for a period at 8× downsampling (768 kHz → 96 kHz), plus the filter's reach.
        stagingCapacity = maximumPeriod * 8 + 1_024
        staging = .allocate(capacity: stagingCapacity * ring.channels)
        staging.initialize(repeating: 0, count: stagingCapacity * ring.channels)
        missing = .allocate(capacity: stagingCapacity)
        missing.initialize(repeating: false, count: stagingCapacity)
        if let concealment, let prepared = handoff.concealment {
            gapFiller = GapFiller(handoff, prepared: prepared, crossfadeFrames: ConcealmentSettings.frames(concealment.crossfade, at: handoff.sampleRate),
                                  counters: counters)
        }
    }

    deinit {
        staging.deallocate()
        missing.deallocate()
        gapFiller?.deallocate()
    }

    /// Renders `frames` output frames at `deviceRate` (frames per local second, measured) whose
    /// first is heard at `firstTime`; `latency` is added to every sample's time. Writes
    /// `frames × channels` samples to `output`; returns false (and writes silence) while the
    /// stream has not started, or its line is not one that can be played (it plays again once the
    /// line is).
    /// Thread: playback (RT). Lock-free, non-allocating; no value a line holds makes it trap.
    public func render(frames: Int, firstTime: Nanoseconds, deviceRate: Double, latency: Nanoseconds,
                       into output: UnsafeMutablePointer<Float>) -> Bool {
        guard let line = timeline.line(orElse: lastLine),
              line.samplesPerSecond >= Self.lowestPlayableRate, line.samplesPerSecond <= Self.highestPlayableRate,
              deviceRate.isFinite, deviceRate > 0
        else { return silence(frames, into: output) }
        lastLine = line
        // The stream sample due when output frame 0 is heard.
        let target = line.sampleIndex(at: Nanoseconds(firstTime.rawValue &- latency.rawValue))
        guard target.magnitude < Self.indexLimit else { return silence(frames, into: output) }  // false for NaN too
        let nominalRatio = deviceRate / line.samplesPerSecond
        var startFrame = 0
        if !isPlaying {
            // Not yet at its first sample: silence, then start exactly where sample 0 falls.
            let leadIn = (-target * nominalRatio).rounded()
            guard leadIn < Double(frames) else { return silence(frames, into: output) }
            startFrame = leadIn > 0 ? Int(leadIn) : 0
            output.update(repeating: 0, count: startFrame * channels)
            jump(to: leadIn > 0 ? 0 : Int64(target.rounded()), nominalRatio: nominalRatio)
            isPlaying = true
        } else if abs(position - target) > Self.reanchorThreshold * line.samplesPerSecond {
            counters.streamReanchors.add()
            jump(to: Int64(target.rounded()), nominalRatio: nominalRatio)
        }
        // Trim the ratio: ahead of the timeline (position > target) → consume input more slowly.
        let error = startFrame == 0 ? position - target : 0
        // Integrate only while the trim is within its authority: through a slew at full authority
        // (the device's timing stepped) the integral would wind up and overshoot by as much again.
        let integrated = integral + error * Double(frames) / deviceRate
        if abs(Self.proportionalGain * error + Self.integralGain * integrated) <= Self.authority { integral = integrated }
        let trim = min(max(Self.proportionalGain * error + Self.integralGain * integral, -Self.authority), Self.authority)
        let ratio = nominalRatio * (1 + trim)
        lastError = error
        lastErrorNanoseconds = error / line.samplesPerSecond * 1e9
        lastTrim = trim
        if lastRatio == 0 { lastRatio = ratio }

        let wanted = frames - startFrame
        // Feed the resampler only what this period needs (plus its filter's reach): reading
        // further ahead would read frames that have not arrived yet as silence.
        let through = (position + Double(wanted) / ratio).rounded(.up)
        guard through.magnitude < Self.indexLimit else {
            isPlaying = false
            return silence(frames, into: output)
        }
        fillStaging(through: Int64(through) + Int64(resampler.lookAhead) + 1)
        let result = resampler.process(input: staging, inputFrames: stagedFrames, output: output + startFrame * channels,
                                       outputFrames: wanted, ratio: ratio)
        consumeStaging(result.consumed)
        position += Double(result.produced) * 2 / (ratio + lastRatio)
        lastRatio = ratio
        if result.produced < wanted {
            pendingGap += wanted - result.produced
            (output + (startFrame + result.produced) * channels).update(repeating: 0, count: (wanted - result.produced) * channels)
        }
        return true
    }

    /// Writes `frames` of silence; false: nothing of the stream played.
    private func silence(_ frames: Int, into output: UnsafeMutablePointer<Float>) -> Bool {
        output.update(repeating: 0, count: frames * channels)
        return false
    }

    /// Restarts reading at stream index `index`: history dropped, the resampler's engine chosen for
    /// `nominalRatio`; what is heard next lags it by the resampler's delay.
    private func jump(to index: Int64, nominalRatio: Double) {
        resampler.reset(engine: .init(nominalRatio: nominalRatio))
        stagedFrames = 0
        nextRead = index
        position = Double(index) - resampler.delay
        integral = 0
        lastRatio = 0
        gapFiller?.reset()
    }

    /// Reads from the ring up to (not including) stream index `end`; missing frames read as silence.
    private func fillStaging(through end: Int64) {
        let wanted = Int(min(end - nextRead, Int64(stagingCapacity - stagedFrames)))
        guard wanted > 0 else { return }
        let target = staging + stagedFrames * channels
        let result = ring.read(from: nextRead, frameCount: wanted, into: UnsafeMutableBufferPointer(start: target, count: wanted * channels),
                               missing: gapFiller == nil ? nil : missing)
        var concealed = 0
        if result.gap > 0 || gapFiller?.isActive == true {
            concealed = gapFiller?.fill(target, from: nextRead, frames: wanted, missing: missing) ?? 0
        }
        // Silence is a gap only if the stream goes on after it; trailing silence (the stream has
        // ended, or paused) is held back until data comes again.
        if result.covered > 0 && pendingGap > 0 {
            counters.silentFrames.add(pendingGap)
            pendingGap = 0
        }
        pendingGap += result.gap - concealed
        stagedFrames += wanted
        nextRead += Int64(wanted)
    }

    private func consumeStaging(_ consumed: Int) {
        guard consumed > 0 else { return }
        let remaining = stagedFrames - consumed
        if remaining > 0 { staging.update(from: staging + consumed * channels, count: remaining * channels) }
        stagedFrames = max(0, remaining)
    }
}
