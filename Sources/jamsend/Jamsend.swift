import ArgumentParser
import Core
import Sender
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT/SIGTERM; the sender loop stops at its next step.
let stopRequested = Atomic<Bool>(false)

/// The `jamsend` command: the Vulkan-backed jamnet sender for tests and demos.
@main
struct Jamsend: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jamsend",
        abstract: "Streams a test signal as jamnet/1.x, stamped on the GPU clock.",
        discussion: """
            Renders each frame with a compute shader (Vulkan; lavapipe works), stamps it with GPU \
            time, sends sync_calibration_blocks that pair GPU and CPU time, and paces frames on \
            CLOCK_MONOTONIC. Answers the receiver's clock_probe (jamnet/1.1).

            Examples:
              jamsend --to 127.0.0.1:9000 --signal sine
              jamsend --udp --signal impulse:100ms --loss 0.02 --jitter 2ms
              jamsend --clock cpu --signal noise --duration 2s --out take.jsonl
            """,
        version: "0.1.0"
    )

    @Option(help: "Receiver address, HOST:PORT or [IPV6]:PORT.")
    var to = "127.0.0.1:9000"
    @Flag(help: "Transport (TCP reconnects with backoff).")
    var transport: SocketConnection.Transport = .tcp
    @Option(help: "Write the stream to this JSON Lines file instead of sending it.")
    var out: String?
    @Option(help: "sine[:FREQ[:AMPLITUDE]], impulse:PERIOD, chirp[:START:END[:SECONDS]], noise[:AMPLITUDE], silence, file:PATH.wav.")
    var signal = "sine"
    @Option(help: "Sample rate in Hz (a file brings its own).")
    var rate = 48_000
    @Option(help: "Channels (a file brings its own).")
    var channels = 2
    @Option(help: "Sample frames per message.")
    var frame = 480
    @Option(help: "How long to send (10s, 500ms), or forever (a file plays once unless given).")
    var duration: String?
    @Option(help: "session_id.")
    var session = "jamsend"
    @Option(help: "Sign every line with key ID from FILE (ID:FILE; the receiver's --keys format), and answer only probes signed by it (jamnet/1.2).")
    var key: String?
    @Option(help: "stream_id.")
    var stream = "main"
    @Option(help: "Send each frame this long before its first sample's time (negative, after it: --lead=-2ms).")
    var lead: String?
    @Flag(help: "Send each frame once its last sample's time has passed, as a live sender capturing audio must (instead of --lead).")
    var capture = false
    @Option(name: .customLong("first-sample-at"), help: "CLOCK_MONOTONIC time, ns, of the first sample (to line frames up with another clock, e.g. a device's periods); 50 ms to 10 s ahead.")
    var firstSampleAt: Int64?
    @Option(name: .customLong("cal-every"), help: "Calibration block interval.")
    var calibrationEvery = "1s"
    @Option(help: "gpu (Vulkan timestamps) or cpu (CLOCK_MONOTONIC, no Vulkan needed).")
    var clock: ClockChoice = .gpu
    @Option(help: "auto, calibrated (VK_EXT_calibrated_timestamps) or submit (a timestamp between two CPU reads).")
    var calibration: VulkanDevice.CalibrationMethod = .auto
    @Option(help: "clock (sample-clock GPU time) or dispatch (the time the dispatch wrote: real jitter).")
    var stamp: SenderConfiguration.StampMode = .clock
    @Option(name: .customLong("gpu-offset"), help: "Add this to the reported GPU clock (3s; negative as --gpu-offset=-250ms).")
    var gpuOffset = "0s"
    @Option(name: .customLong("gpu-skew-ppm"), help: "Make the reported GPU clock (and the sample clock) run this many ppm fast (negative: --gpu-skew-ppm=-100).")
    var gpuSkewPPM = 0.0
    @Option(name: .customLong("gpu-bits"), help: "Reported GPU counter width, 16...64 (narrower counters wrap).")
    var gpuBits = 64
    @Option(name: .customLong("stamp-jitter"), help: "Move each frame's timestamp by up to ± this (blocks stay exact).")
    var stampJitter = "0s"
    @Option(help: "UDP: the fraction of frames lost.")
    var loss = 0.0
    @Option(name: .customLong("loss-burst"), help: "UDP: lost frames come in runs of this many, 1...1000 (--loss stays the fraction lost).")
    var lossBurst = 1
    @Option(help: "UDP: probability that a frame arrives after the next one.")
    var reorder = 0.0
    @Option(help: "UDP: probability that a frame arrives twice.")
    var duplicate = 0.0
    @Option(help: "UDP: delay each datagram by up to this.")
    var jitter = "0s"
    @Option(name: .customLong("jitter-after"), help: "UDP: start the --jitter this long after the first frame (a network that worsens mid-stream).")
    var jitterAfter = "0s"
    @Option(help: "Seed for noise, jitter and faults.")
    var seed: UInt64 = 1
    @Flag(help: "Send as fast as frames render (benchmarks, files) instead of in real time.")
    var noPace = false

    enum ClockChoice: String, ExpressibleByArgument {
        case gpu, cpu
    }

    func run() throws {
        let (settings, fileSamples) = try self.settings()
        var progress = ProgressLine(enabled: isatty(STDERR_FILENO) == 1, rate: settings.rate)
        let source: any TimestampSource
        let renderer: any SignalRenderer
        switch clock {
        case .cpu:
            source = MonotonicTimestampSource()
            renderer = CPUSignalRenderer(fileSamples: fileSamples)
        case .gpu:
            let device = try VulkanDevice(calibration: calibration)
            source = device
            renderer = try VulkanSignalRenderer(device: device, maximumFrames: frame, channels: settings.channels.rawValue, fileSamples: fileSamples)
            progress.note("jamsend: \(device.clockBase), timestamp period \(device.timestampPeriod) ns, \(device.timestampValidBits) valid bits")
        }
        let sender = try JamSender(configuration: settings, source: source, renderer: renderer,
                                   fileFrames: fileSamples.count / settings.channels.rawValue, log: Self.report)
        // A parent (a test runner, a service manager) may hand down a mask that blocks these.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        for number in [SIGINT, SIGTERM] {
            Glibc.signal(number) { _ in stopRequested.store(true, ordering: .relaxed) }
            sigaddset(&stopSignals, number)
        }
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        try sender.run(shouldStop: { stopRequested.load(ordering: .relaxed) }, progress: { progress.update($0) })
        progress.finish(sender.statistics)
        if sender.statistics.framesSent == 0 && sender.statistics.framesDropped > 0 {
            Self.report("jamsend: no frame reached \(to): is a receiver listening there?")
            throw ExitCode.failure
        }
    }

    /// A duration option: `10s`, `250ms`, `500us`, `0`; negative only where `signed`.
    static func duration(_ text: String, _ name: String, signed: Bool = false) throws -> Nanoseconds {
        guard let value = signed ? Nanoseconds(signedDuration: text) : Nanoseconds(duration: text) else {
            throw ValidationError("\(name) \(text): expected a duration such as 5ms, 1s or 250us")
        }
        return value
    }

    static func report(_ line: String) {
        StandardError.write(line + "\n")
    }
}

extension SocketConnection.Transport: EnumerableFlag {}
extension VulkanDevice.CalibrationMethod: ExpressibleByArgument {}
extension SenderConfiguration.StampMode: ExpressibleByArgument {}
