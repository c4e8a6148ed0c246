import Buffer
import Core
import Realtime

/// How playback runs: the device, the latency, the real-time priority.
public struct PlaybackConfiguration: Sendable {
    /// The device and the format asked of it.
    public var device = AlsaPCM.Request()
    /// Every sample is heard at its timeline time plus this (with `automaticLatencyCeiling`, the
    /// latency it starts at).
    public var latency = Nanoseconds.milliseconds(20)
    /// `--output-offset`: played this much later than the latency says (a speaker's own delay,
    /// to line boxes up; negative: earlier). Only with a fixed latency; the two together must
    /// reach the device's floor.
    public var outputOffset = Nanoseconds.zero
    /// `--latency auto`: ingest chooses the latency from what the streams' frames need, up to
    /// this (nil: the latency is fixed).
    public var automaticLatencyCeiling: Nanoseconds?
    /// How long before the device takes a period the loop writes it, at start (`DeviceFill`).
    public var fill = Nanoseconds.microseconds(1_500)
    /// What each underrun adds to the fill.
    public var fillStep = Nanoseconds.microseconds(500)
    /// `SCHED_FIFO` priority of the playback thread (0: normal scheduling).
    public var realtimePriority: Int32 = 70
    /// The most streams mixed at once.
    public var maximumStreams = 32
    /// Lock the process's memory (`mlockall`) so the playback thread never waits on a page fault.
    public var lockMemory = true
    /// `--record`: a WAV file that receives exactly what is played.
    public var recordPath: String?
    /// `--trace-timing`: a CSV file that receives the playback loop's timing, period by period.
    public var timingTracePath: String?
    /// `--conceal`: how streams' gaps are filled with predicted audio (nil: `off`, silence).
    public var concealment: ConcealmentSettings? = .standard

    /// Makes the defaults.
    public init() {}
}
