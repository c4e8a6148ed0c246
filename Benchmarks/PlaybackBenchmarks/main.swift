import Core
import Foundation
import JackProbe
import Sender
#if canImport(Glibc)
import Glibc
#endif

// `make bench`: playback timing on the JACK dummy rig, measured by an independent JACK client
// (Tests/Support/JackProbe) — jamplay playing impulses sent by jamsend at 100 ms multiples of
// CLOCK_MONOTONIC, beside `aplay -D jack` playing a file of the same impulses (the rig's floor) —
// over TCP and UDP — then jamplay's CPU and memory idle and for 1, 4 and 16 live UDP streams
// beside aplay's for one file and zita-n2j's for one stream from zita-j2n, and the smallest --latency that plays a live (capturing) sender's 256- and
// 480-sample frames for 60 s without a gap, a late frame or an underrun, beside zita-njbridge's
// (LiveSenderLatency.swift). Needs the built jamplay and jamsend (release) beside this program,
// jackd2, alsa-utils and zita-njbridge. BENCH_PARTS picks parts (timing, cpu, latency);
// BENCH_JAMPLAY_BASELINE=PATH adds an earlier jamplay's CPU, idle and with one stream.

/// Prints a line at once (the runs are long; a redirected stdout would hold it back).
func say(_ line: String) {
    print(line)
    fflush(nil)
}

let seconds = Double(ProcessInfo.processInfo.environment["BENCH_SECONDS"] ?? "20") ?? 20
/// Which parts to run: timing, cpu, latency (all by default).
let parts = Set((ProcessInfo.processInfo.environment["BENCH_PARTS"] ?? "timing,cpu,latency").split(separator: ",").map(String.init))
let periods = (ProcessInfo.processInfo.environment["BENCH_PERIODS"] ?? "256,128").split(separator: ",").compactMap { Int($0) }
let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()

@discardableResult
func run(_ path: String, _ arguments: [String], wait: Bool = true, environment: [String: String] = [:], output: FileHandle? = nil) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = output ?? FileHandle.nullDevice
    process.standardError = output ?? FileHandle.nullDevice
    try process.run()
    if wait { process.waitUntilExit() }
    return process
}

func startJack(period: Int) throws {
    jack_probe_stop()
    _ = try? run("/usr/bin/pkill", ["-x", "jackd"])
    usleep(500_000)
    try run("/usr/bin/jackd", ["-d", "dummy", "-r", "48000", "-p", "\(period)"], wait: false, environment: ["JACK_NO_AUDIO_RESERVATION": "1"])
    for _ in 0..<50 {
        usleep(100_000)
        if (try? run("/usr/bin/jack_lsp", [], environment: ["JACK_NO_START_SERVER": "1"]).terminationStatus) == 0 { break }
    }
    precondition(jack_probe_start("jamplay-bench-probe", 48_000 * Int(max(seconds, 63) + 30)) == 0, "no JACK server")
}

func connectProbe(_ pattern: String) {
    for _ in 0..<50 where jack_probe_connect(pattern) < 2 { usleep(100_000) }
}

/// Recorded frames at which the JACK server itself had an xrun (this virtual machine stalled).
func rigXrunFrames() -> [Int] { (0..<jack_probe_xruns()).map { Int(jack_probe_xrun_frame($0)) } }

/// Played times (CLOCK_MONOTONIC ns) of the impulses in the probe's recording (energy centroids),
/// less those within 6 s after an xrun of the JACK server: the rig slipped, not the player, and
/// JACK's own frame-to-time estimate, which the probe's times come from, takes seconds to settle
/// (traces show it 1.3 ms off 3 s after a burst of xruns, converging at 0.4 ms/s while jamplay's
/// readings of the device stayed steady; the end-to-end tests leave out 3 s).
func impulseTimes() -> [Double] {
    let xruns = rigXrunFrames()
    let frames = jack_probe_frames()
    var left = [Float](repeating: 0, count: frames)
    _ = jack_probe_copy(0, &left, frames)
    let offset = jack_probe_monotonic_minus_jack_nsecs()
    var times: [Double] = []
    var quiet = 1_000
    for index in 0..<frames {
        if abs(left[index]) >= 0.3 {
            let disturbed = xruns.contains { $0 <= index && index < $0 + 6 * 48_000 }
            if quiet >= 1_000 && !disturbed { times.append(jack_probe_pulse_time_usecs(index) * 1000 + offset) }
            quiet = 0
        } else {
            quiet += 1
        }
    }
    return times
}

/// How many times the JACK server itself had an xrun during the recording.
func xrunNote() -> String {
    let count = rigXrunFrames().count
    return count == 0 ? "" : "   (\(count) JACK server xrun\(count == 1 ? "" : "s"): 6 s after each left out)"
}

/// Median offset and p99 of |error − median|, µs.
func summary(_ errors: [Double]) -> String {
    guard !errors.isEmpty else { return "no impulses heard" }
    let sorted = errors.sorted()
    let median = sorted[sorted.count / 2]
    let jitter = errors.map { abs($0 - median) }.sorted()
    return String(format: "median %8.1f µs   p99 |error − median| %6.1f µs   (%d impulses)", median / 1000,
                  jitter[min(jitter.count - 1, Int(Double(jitter.count) * 0.99))] / 1000, errors.count)
}

func gridError(_ time: Double, _ period: Double = 100e6) -> Double { time - (time / period).rounded() * period }

/// The rig's floor: aplay playing a file of impulses 100 ms apart; their distances from a line
/// through them (``distancesFromLines(_:)``), and aplay's CPU seconds per audio second and peak RSS (KiB).
func aplayFloor() throws -> (timing: String, cpu: Double, peakKiB: Int) {
    let path = NSTemporaryDirectory() + "jamplay-bench-impulses.wav"
    let frames = Int(seconds * 48_000)
    let samples = (0..<frames * 2).map { $0 / 2 % 4_800 == 2_400 ? Float(1) : 0 }
    try Data(WAVFile.encode(samples: samples, rate: .standard, channels: ChannelCount(2))).write(to: URL(fileURLWithPath: path))
    defer { unlink(path) }
    let player = try run("/usr/bin/aplay", ["-q", "-D", "jack", path], wait: false)
    connectProbe("^alsa-jack.*out_00[01]$|aplay.*out_00[01]$")
    jack_probe_restart()
    var (used, peak) = (0.0, 0)
    while player.isRunning {
        (used, peak) = (cpuSeconds(of: player) ?? used, peakKiB(of: player) ?? peak)
        usleep(100_000)
    }
    let times = impulseTimes()
    let cpu = used / seconds
    guard !times.isEmpty else { return ("no impulses heard", cpu, peak) }
    return (summary(distancesFromLines(times)) + xrunNote(), cpu, peak)
}

/// Each impulse's distance from a line through its run of impulses 100 ms apart (runs split where
/// impulses were left out after an xrun, which slips aplay's grid). aplay follows the device's
/// clock, which runs a little off CLOCK_MONOTONIC (1.3 ppm on one run: 39 µs over 30 s), so its
/// distances from an exact 100 ms grid would count that drift as jitter; jamplay follows the
/// device's rate, so the line's distances are the floor to compare it with.
func distancesFromLines(_ times: [Double]) -> [Double] {
    var runs: [[Double]] = [[]]
    for time in times {
        if let last = runs[runs.count - 1].last, time - last > 150e6 { runs.append([]) }
        runs[runs.count - 1].append(time)
    }
    return runs.filter { $0.count >= 10 }.flatMap { run -> [Double] in
        let steps = run.map { (($0 - run[0]) / 100e6).rounded() }
        let meanStep = steps.reduce(0, +) / Double(steps.count)
        let meanTime = run.reduce(0, +) / Double(run.count)
        let covariance = zip(steps, run).map { ($0 - meanStep) * ($1 - meanTime) }.reduce(0, +)
        let variance = steps.map { ($0 - meanStep) * ($0 - meanStep) }.reduce(0, +)
        return zip(steps, run).map { $1 - meanTime - covariance / variance * ($0 - meanStep) }
    }
}

/// Peak resident memory of a running process, KiB.
func peakKiB(of process: Process) -> Int? {
    let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
    return status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
}

/// With BENCH_TRACE_DIR set, each jamplay run writes its timing trace there (`--trace-timing`),
/// and the timing runs the impulses the probe heard beside it (`.impulses`: CLOCK_MONOTONIC ns).
func tracePath() -> String? {
    ProcessInfo.processInfo.environment["BENCH_TRACE_DIR"].map { "\($0)/jamplay-\(DispatchTime.now().uptimeNanoseconds).csv" }
}

/// jamplay on the rig with `streams` senders; returns its log and CPU seconds, peak RSS (KiB), and
/// with `idleFirst` the CPU seconds of `duration` on the device before the senders start.
func jamplay(latency: String, periods: Int = 3, streams: [[String]], duration: Double = seconds, record: Bool = true,
             idleFirst: Bool = false, binary: String = directory.appendingPathComponent("jamplay").path) throws -> (log: String, cpu: Double, idleCPU: Double, peakKiB: Int, trace: String?) {
    let trace = tracePath()
    let logPath = NSTemporaryDirectory() + "jamplay-bench.log"
    _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    let log = FileHandle(forWritingAtPath: logPath)!
    let player = try run(binary,
                         ["--listen", "127.0.0.1:9400", "--device", "jack", "--latency", latency, "--periods", "\(periods)", "--http", "off"] + (trace.map { ["--trace-timing", $0] } ?? []),
                         wait: false, output: log)
    usleep(1_000_000)
    connectProbe("^jamplay.*out_00[01]$")
    if record { jack_probe_restart() }
    // CPU from here on: start-up (opening the device, locking memory) is not per audio second.
    var start = cpuSeconds(of: player) ?? 0
    var idle = 0.0
    if idleFirst {
        usleep(useconds_t(duration * 1e6))
        let used = cpuSeconds(of: player) ?? 0
        (idle, start) = (used - start, used)
    }
    let senders = try streams.enumerated().map { index, arguments in
        try run(directory.appendingPathComponent("jamsend").path,
                ["--clock", "cpu", "--to", "127.0.0.1:9400", "--session", "s\(index)", "--duration", "\(Int(duration))s"] + arguments, wait: false)
    }
    for sender in senders { sender.waitUntilExit() }
    if senders.isEmpty { usleep(useconds_t(duration * 1e6)) }
    let used = (cpuSeconds(of: player) ?? 0) - start
    let peak = peakKiB(of: player) ?? 0
    player.interrupt()
    player.waitUntilExit()
    try? log.close()
    let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    return (text, used, idle, peak, trace)
}

/// The CPU time a running process has used so far, every thread's (its CPU-time clock: to the
/// nanosecond, where /proc's figures count 10 ms ticks); nil once it has ended.
func cpuSeconds(of process: Process) -> Double? {
    var clock = clockid_t()
    var time = timespec()
    guard clock_getcpuclockid(process.processIdentifier, &clock) == 0, clock_gettime(clock, &time) == 0 else { return nil }
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func count(_ name: String, in log: String) -> Int {
    guard let line = log.split(separator: "\n").last(where: { $0.contains("jamplay: stopped") }),
          let range = line.range(of: " \(name)") else { return -1 }
    return Int(line[..<range.lowerBound].split(separator: " ").last ?? "") ?? -1
}

say("Playback timing on the JACK dummy rig, impulses every 100 ms for \(Int(seconds)) s (BENCH_SECONDS to change)")
for period in periods where parts.contains("timing") {
    try startJack(period: period)
    say("\njackd -d dummy -p \(period) (one period = \(String(format: "%.0f", Double(period) / 0.048)) µs)")
    say("aplay -D jack (floor)                        " + (try aplayFloor()).timing)
    for transport in ["tcp", "udp"] {
        // 10 ms: just above the device path at -p 256 (fill 1.5 ms, mixing, a period).
        // And a live sender at a latency that plays it cleanly whatever its phase (the latency part).
        for (latency, timing) in [("10ms", ["--lead", "40ms"]), ("20ms", ["--lead", "40ms"]), ("14ms", ["--capture", "--frame", "256"])] {
            let result = try jamplay(latency: latency, streams: [["--signal", "impulse:100ms", "--\(transport)"] + timing])
            let latencyNanoseconds = Double(latency.dropLast(2))! * 1e6
            // Steady state: the first two seconds (the device and stream locks settling) are left out.
            let times = impulseTimes()
            if let trace = result.trace {
                // For `TimelineReplay`: the run's settings, then the impulses the probe heard.
                let header = "# latency_ns \(Int(latencyNanoseconds)) jack_period \(period)\n"
                try (header + times.map { String(Int64($0)) }.joined(separator: "\n")).write(toFile: trace + ".impulses", atomically: true, encoding: .utf8)
            }
            let errors = times.filter { $0 > (times.first ?? 0) + 2e9 }.map { gridError($0 - latencyNanoseconds) }
            say("jamplay \(transport.uppercased()) --latency \(latency.padding(toLength: 5, withPad: " ", startingAt: 0)) \(timing[0].padding(toLength: 9, withPad: " ", startingAt: 0)) " + summary(errors)
                  + "   underruns \(count("underruns", in: result.log)), silent frames \(count("silent frames", in: result.log))" + xrunNote())
        }
    }
}

try startJack(period: 256)
if parts.contains("cpu") {
say("\nCPU and memory (whole process, user + system, -p 256, 48 kHz stereo in 256-sample frames over UDP, \(Int(seconds)) s)")
let floor = try aplayFloor()
say(String(format: "aplay -D jack, one file                  CPU %.5f s per audio s", floor.cpu) + "   peak RSS \(floor.peakKiB) KiB")
let zita = try zitaCPU(duration: seconds)
say(String(format: "zita-n2j, one stream from zita-j2n       CPU %.5f s per audio s", zita.cpu) + "   peak RSS \(zita.peakKiB) KiB")
// BENCH_JAMPLAY_BASELINE=PATH: an earlier release jamplay, idle and with one stream, in the same run.
let baseline = ProcessInfo.processInfo.environment["BENCH_JAMPLAY_BASELINE"]
for (binary, streamCounts, label) in [(directory.appendingPathComponent("jamplay").path, [0, 1, 4, 16], "jamplay, ")]
    + (baseline.map { [($0, [0, 1], "baseline,")] } ?? []) {
    for streams in streamCounts {
        // Each player idles first, and its streams are counted above its own idle: the idle cost
        // differs from one start to the next by more than a stream costs (where the device's and
        // the playback thread's wake-ups land), so another process's idle is no baseline. The
        // senders are live ones, as zita-j2n is: each frame sent once its last sample is captured.
        let result = try jamplay(latency: "20ms", streams: Array(repeating: ["--signal", "sine:997", "--udp", "--capture", "--frame", "256"], count: streams),
                                 record: false, idleFirst: streams > 0, binary: binary)
        let perSecond = result.cpu / seconds, idle = result.idleCPU / seconds
        let perStream = streams == 0 ? "" : String(format: "   (%.2f %% of a core per stream above this player's idle, %.5f s)",
                                                   (perSecond - idle) * 100 / Double(streams), idle)
        say(String(format: "%@ %2d stream%@                    CPU %.5f s per audio s", label, streams, streams == 1 ? " " : "s", perSecond) + perStream
            + "   peak RSS \(result.peakKiB) KiB")
    }
}
if let baseline { say("(baseline: \(baseline))") }

}

if parts.contains("latency") {
    try liveSenderLatency()
}
jack_probe_stop()
