import Core

/// When each device frame is heard, on `CLOCK_MONOTONIC`: a delay-locked loop over the device's
/// (timestamp, frame being heard) readings.
///
/// The readings are coarse — the JACK plugin's delay moves in whole periods, a USB device's in
/// packets, and every reading carries the wake-up jitter of the thread that took it — so the loop
/// follows them slowly: a second-order DLL (time and frame period). Its phase term is wide while it
/// locks and narrower after; its rate term is always narrow, because a device runs within ppm of its
/// nominal rate while each reading is off by up to a period: a wide rate term would bend the rate
/// by hundreds of ppm on a few late readings. Once locked, each reading's pull is also limited
/// (`lockedErrorLimit`). A run of readings far off the prediction moves its phase (the device
/// slipped); a single one (the reading thread woke late) is ignored. The loop takes only the
/// earliest reading of each `readingGroup` (against its prediction): a reading is late by the
/// reading thread's wake-up, never early, so the earliest is the truest. Underruns re-anchor it
/// explicitly (`anchor`).
///
/// Thread: playback (RT). Lock-free, non-allocating (a value type).
public struct DeviceTimeline: Sendable {
    /// Bandwidth of the phase term while locking, in hertz, and for how long.
    public var lockingBandwidth = 2.0, lockingDuration = Nanoseconds.seconds(2)
    /// Bandwidth of the phase term once locked: wide enough to follow the device's timing as it
    /// wanders over seconds (on the JACK rig, by ±50 µs), narrow enough to average the readings'
    /// wake-up jitter. Between 0.1 and 0.2 Hz the heard error is least: narrower lags the device's
    /// wander, wider lets the readings' jitter through (`TimelineReplay` replays recorded readings
    /// at other settings against what a JACK client heard).
    public var lockedPhaseBandwidth = 0.15
    /// Bandwidth of the rate term, always: a device runs within ppm of its nominal rate, so this
    /// can be narrow, and it keeps bursts of late readings from bending the rate.
    public var rateBandwidth = 0.05
    /// Once locked, a reading pulls the loop as if it were at most this far off (ns): readings
    /// come late by the reading thread's wake-up, now and then by milliseconds.
    public var lockedErrorLimit = 200_000.0
    /// Readings further than this from the prediction, several in a row, re-anchor the loop;
    /// once the pointer's step is known, ¾ of a step (at least 2 ms) is enough, so that a device
    /// whose timing slips by one step (JACK skipping a cycle) re-anchors rather than bending the
    /// loop's rate estimate for seconds.
    public var resetThreshold = Nanoseconds.milliseconds(10)
    /// The loop is fed the earliest reading of each group this long (zero: every reading).
    /// Groups of 30–50 ms give fewer large errors than every reading (a reading is late by the
    /// thread's wake-up, never early); groups of 0.25 s lag the device's wander.
    public var readingGroup = Nanoseconds.milliseconds(40)
    /// Once locked, when the earliest readings of `offGroupsToStep` groups in a row are all this
    /// far off the prediction, the device's timing moved (the JACK server recovering from a stall
    /// moves it by 0.3–4 ms): the loop steps its phase there at once, keeping its rate, rather than
    /// slewing by its limited pull for seconds. Readings of a steady device on this rig put the
    /// earliest of a group within ±170 µs.
    public var stepThreshold = Nanoseconds.microseconds(300)
    static let offGroupsToStep = 3

    /// The nominal frame rate.
    public let nominalRate: SampleRate
    /// Frame `anchorFrame` is heard at `anchorTime` (smoothed).
    public private(set) var anchorFrame: Int64 = 0
    public private(set) var anchorTime: Double = 0
    /// Nanoseconds per device frame (smoothed): the device's real rate against `CLOCK_MONOTONIC`.
    public private(set) var framePeriod: Double
    /// Whether a reading has anchored the loop.
    public private(set) var isAnchored = false
    /// Times the device's timing moved and the loop's phase moved with it at once: a run of
    /// readings far off its prediction, or of reading groups beyond `stepThreshold`.
    public private(set) var resets = 0
    private var lockedSince: Nanoseconds = .zero
    private var farReadings = 0
    /// The device pointer's last reading and its smallest step so far.
    private var lastPointer: Int64?
    private var pointerStep = Int64.max
    /// The earliest reading of the group being gathered (its frame and error against the
    /// prediction) and when the group began; `groupStart` nil when none is being gathered.
    private var groupBest = (frame: Int64(0), error: 0.0)
    private var groupStart: Nanoseconds?
    /// Groups in a row whose earliest reading was beyond `stepThreshold`.
    private var offGroups = 0
    /// Consecutive readings beyond `resetThreshold` that re-anchor the loop.
    static let farReadingsToReset = 4

    /// Makes an unanchored timeline for a device running at `nominalRate`.
    public init(nominalRate: SampleRate) {
        self.nominalRate = nominalRate
        framePeriod = 1e9 / Double(nominalRate.hertz)
    }

    /// How far off the prediction a reading counts as far, ns.
    private var farThreshold: Double {
        let limit = Double(resetThreshold.rawValue)
        guard pointerStep != .max else { return limit }
        return min(limit, max(2e6, 0.75 * Double(pointerStep) * framePeriod))
    }

    /// Whether the loop is still locking at `time` (its first seconds after an anchor, when its
    /// readings pull it hard and its error can be a large part of a period).
    func isLocking(at time: Nanoseconds) -> Bool { time - lockedSince < lockingDuration }

    /// The device's frames per local second.
    public var measuredRate: Double { 1e9 / framePeriod }

    /// When frame `frame` is heard (valid once anchored).
    public func time(ofFrame frame: Int64) -> Nanoseconds {
        Nanoseconds(Int64((anchorTime + Double(frame - anchorFrame) * framePeriod).rounded()))
    }

    /// When the device next takes frames after `time`: the first time after it at which the
    /// loop's phase puts a pointer step, nil before the step is known. After an underrun the
    /// device starts again on that beat (a JACK cycle keeps its phase; a card restarts at once,
    /// within a step of it).
    public func nextStep(after time: Nanoseconds) -> Nanoseconds? {
        guard isAnchored, pointerStep != .max else { return nil }
        let stepNanoseconds = Double(pointerStep) * framePeriod
        let steps = ((Double(time.rawValue) - anchorTime) / stepNanoseconds).rounded(.down) + 1
        return Nanoseconds(Int64((anchorTime + steps * stepNanoseconds).rounded()))
    }

    /// Anchors without a reading: frame `frame` is heard at `time` (at start, and for devices that do not pace).
    public mutating func anchor(frame: Int64, at time: Nanoseconds) {
        farReadings = 0
        offGroups = 0
        lastPointer = nil
        groupStart = nil
        anchorFrame = frame
        anchorTime = Double(time.rawValue)
        lockedSince = time
        isAnchored = true
    }

    /// Feeds a reading of the device pointer (the frames written less the device's delay) at
    /// `time`. The pointer moves in steps (a JACK period, a USB packet) and the frames of the last
    /// step are still being played, so the frame heard then is a step behind it.
    public mutating func observe(devicePointer pointer: Int64, at time: Nanoseconds) {
        notePointer(pointer)
        observe(heardFrame: pointer - (pointerStep == .max ? 0 : pointerStep), at: time)
    }

    /// Learns the device pointer's step from a reading without timing it. Readings once a period
    /// see the pointer move by a whole period even when it steps in smaller units (a JACK period
    /// of 128 under an ALSA period of 256), so the loop also polls it briefly at start.
    public mutating func notePointer(_ pointer: Int64) {
        if let last = lastPointer, pointer > last, pointer - last < pointerStep {
            // Readings so far were placed by a wrong step: the next one anchors afresh.
            pointerStep = pointer - last
            isAnchored = false
        }
        lastPointer = pointer
    }

    /// The smallest step of the device pointer seen so far, in frames (nil before two readings moved).
    public var devicePointerStep: Int64? { pointerStep == .max ? nil : pointerStep }

    /// Feeds one reading: frame `heardFrame` was being heard at `time`.
    public mutating func observe(heardFrame: Int64, at time: Nanoseconds) {
        guard isAnchored else {
            anchor(frame: heardFrame, at: time)
            return
        }
        let frames = Double(heardFrame - anchorFrame)
        guard frames > 0 else { return }  // nothing new heard since the last reading
        let predicted = anchorTime + frames * framePeriod
        let error = Double(time.rawValue) - predicted
        guard abs(error) <= farThreshold else {
            // One late reading is the reading thread's delay, not the device's: ignore it. Only a
            // run of them means the device's timing really moved: its phase, not its rate.
            farReadings += 1
            if farReadings >= Self.farReadingsToReset {
                // The phase moved, not the rate: the loop keeps its rate and its narrow
                // bandwidth (locking again would let the next late readings bend the rate).
                resets += 1
                farReadings = 0
                offGroups = 0
                groupStart = nil
                anchorFrame = heardFrame
                anchorTime = Double(time.rawValue)
            }
            return
        }
        farReadings = 0
        // The group's earliest reading is the one its last reading hands to the loop.
        if groupStart == nil || error < groupBest.error { groupBest = (heardFrame, error) }
        let start = groupStart ?? time
        guard time - start >= readingGroup else {
            groupStart = start
            return
        }
        groupStart = nil
        let locking = isLocking(at: time)
        offGroups = !locking && abs(groupBest.error) > Double(stepThreshold.rawValue) ? offGroups + 1 : 0
        if offGroups >= Self.offGroupsToStep {
            offGroups = 0
            resets += 1
            anchorTime += Double(groupBest.frame - anchorFrame) * framePeriod + groupBest.error
            anchorFrame = groupBest.frame
            return
        }
        follow(heardFrame: groupBest.frame, error: groupBest.error, locking: locking)
    }

    /// Moves the loop towards a reading of frame `heardFrame` that was `error` ns off its prediction.
    private mutating func follow(heardFrame: Int64, error: Double, locking: Bool) {
        let frames = Double(heardFrame - anchorFrame)
        let predicted = anchorTime + frames * framePeriod
        let pull = locking ? error : min(max(error, -lockedErrorLimit), lockedErrorLimit)
        let span = frames * framePeriod * 1e-9
        let phaseOmega = 2 * Double.pi * (locking ? lockingBandwidth : lockedPhaseBandwidth) * span
        let rateOmega = 2 * Double.pi * rateBandwidth * span
        anchorTime = predicted + 2.0.squareRoot() * phaseOmega * pull
        anchorFrame = heardFrame
        framePeriod += rateOmega * rateOmega * pull / frames
        // A device is within ±1 % of its nominal rate; anything else is a bad reading's echo.
        let nominal = 1e9 / Double(nominalRate.hertz)
        framePeriod = min(max(framePeriod, nominal * 0.99), nominal * 1.01)
    }
}
