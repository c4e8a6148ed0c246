import Foundation
import JackProbe
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

// The latency part of `make bench`: how little latency a live (capturing) sender needs on the rig,
// beside zita-njbridge in the same run. Both are timed the same way: a sample is captured when a
// JACK capture port would deliver it — in the cycle after the period it was sampled in, which is
// when jamsend --capture sends a 256-sample frame — and heard when the probe records it.

/// One period of the rig, ns (jackd -p 256 at 48 kHz).
let rigPeriod = 256.0 / 48_000 * 1e9

/// What one reading of /status says of the latency and the first stream.
struct LatencyReading {
    var inForce = 0.0, target = 0.0, devicePath = 0.0, needed: Double?, late = 0, silent = 0

    init?(port: UInt16) {
        guard let reply = LoopbackSockets.httpRequest("/status", port: Int(port)),
              let json = try? JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any] else { return nil }
        let counters = json["counters"] as? [String: Int] ?? [:]
        inForce = Double(json["latency_nanoseconds"] as? Int ?? 0)
        target = Double(json["latency_target_nanoseconds"] as? Int ?? 0)
        devicePath = Double((json["device"] as? [String: Any])?["device_path_nanoseconds"] as? Int ?? 0)
        late = counters["ingest_late_frames_total"] ?? 0
        silent = counters["playback_silent_frames_total"] ?? 0
        let stream = ((json["sessions"] as? [[String: Any]])?.first?["streams"] as? [[String: Any]])?.first
        needed = (stream?["latency_needed_nanoseconds"] as? Int).map(Double.init)
    }
}

/// What a live sender's run through jamplay came to.
struct LiveRun {
    var underruns = 0, silentFrames = 0, lateFrames = 0
    /// The most the stream needed (p99 of its window) at any reading, ns.
    var needed = 0.0
    /// The latency in force at the end, ns.
    var settled = 0.0
    /// The device path at the end, ns.
    var devicePath = 0.0
    /// Seconds after the sender's first sample at which late frames or silent frames (samples a
    /// playing stream did not have in time: late for their period, or lost) were counted.
    var gapsAt: [Double] = []

    var isClean: Bool { underruns == 0 && silentFrames == 0 && lateFrames == 0 }
}

/// The CLOCK_MONOTONIC time, ns, `phase` ns after a cycle start of the rig at least 0.3 s ahead.
func cycleAlignedStart(phase: Double) -> Int64 {
    let offset = jack_probe_monotonic_minus_jack_nsecs()
    let cycle = jack_probe_latest_cycle_usecs() * 1000 + offset
    let now = Double(DispatchTime.now().uptimeNanoseconds)
    let periodsAhead = ((now + 0.3e9 - cycle) / rigPeriod).rounded(.up)
    return Int64(cycle + periodsAhead * rigPeriod + phase)
}

/// jamplay at `latency` with one capture sender of `frame`-sample frames over UDP whose first
/// sample lies `phase` ns after a cycle of the rig, watched through /status.
@MainActor func liveRun(latency: String, frame: Int, phase: Double, duration: Double, extra: [String] = [], playerExtra: [String] = []) throws -> LiveRun {
    let logPath = NSTemporaryDirectory() + "jamplay-bench-live.log"
    _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    let log = FileHandle(forWritingAtPath: logPath)!
    let port: UInt16 = 9401
    jack_probe_restart()  // for the rig's xruns during the run
    let player = try run(directory.appendingPathComponent("jamplay").path,
                         ["--listen", "127.0.0.1:9400", "--device", "jack", "--latency", latency, "--http", "127.0.0.1:\(port)"] + playerExtra,
                         wait: false, output: log)
    // The device's first 2 s are its warm-up (a period more lead while its timeline locks): a
    // player plays long before its streams come.
    usleep(2_500_000)
    connectProbe("^jamplay.*out_00[01]$")
    let start = cycleAlignedStart(phase: phase)
    let sender = try run(directory.appendingPathComponent("jamsend").path,
                         ["--clock", "cpu", "--to", "127.0.0.1:9400", "--udp", "--capture", "--frame", "\(frame)", "--signal", "sine:440",
                          "--duration", "\(Int(duration))s", "--first-sample-at", "\(start)"] + extra, wait: false)
    var result = LiveRun()
    var lastLate = 0, lastSilent = 0
    while sender.isRunning {
        usleep(100_000)
        guard let reading = LatencyReading(port: port) else { continue }
        let elapsed = (Double(DispatchTime.now().uptimeNanoseconds) - Double(start)) / 1e9
        if reading.late > lastLate || reading.silent > lastSilent { result.gapsAt.append(elapsed) }
        (lastLate, lastSilent) = (reading.late, reading.silent)
        if elapsed > 1 && elapsed < duration - 0.5 { result.needed = max(result.needed, reading.needed ?? 0) }
        if elapsed < duration - 0.5 { (result.settled, result.devicePath) = (reading.inForce, reading.devicePath) }
    }
    player.interrupt()
    player.waitUntilExit()
    try? log.close()
    let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    (result.underruns, result.silentFrames, result.lateFrames) = (count("underruns", in: text), count("silent frames", in: text), count("late frames", in: text))
    return result
}

/// When a run's gaps came, if it had any.
func gapTimes(_ run: LiveRun) -> String {
    run.gapsAt.isEmpty ? "" : " (at " + run.gapsAt.map { String(format: "%.1f s", $0) }.joined(separator: ", ") + ")"
}

func milliseconds(_ nanoseconds: Double) -> String { String(format: "%.2f ms", nanoseconds / 1e6) }

/// Whether to try a run once more: it was not clean while the JACK server itself stalled (this
/// machine did), and it was not a retry already. `retried` says whether this one is.
func retryAfterRigStall(clean: Bool, retried: inout Bool) -> Bool {
    retried = !retried && !clean && !rigXrunFrames().isEmpty
    return retried
}

/// The smallest latency in 0.5 ms steps that plays 60 s cleanly, from a step under `need` (the
/// stream's p99, rounded up to 0.1 ms): each step is tried for 10 s, and one clean in 10 s for
/// 60 s (if that is not clean, the next step for 10 s again).
@MainActor func smallestCleanLatency(frame: Int, phase: Double, need: Double) throws -> Double? {
    var latency = (need / 0.1e6).rounded(.up) * 0.1e6 - 0.5e6
    var screened = false, retried = false
    while latency <= 40e6 {
        let text = String(format: "%.1fms", latency / 1e6)
        let length = screened ? 60.0 : 10
        let result = try liveRun(latency: text, frame: frame, phase: phase, duration: length)
        say("  --latency \(text) \(Int(length)) s: \(result.underruns) underruns, \(result.silentFrames) silent frames, \(result.lateFrames) late frames" + xrunNote())
        if retryAfterRigStall(clean: result.isClean, retried: &retried) { continue }
        if result.isClean && screened { return latency }
        if result.isClean {
            screened = true
        } else {
            screened = false
            latency += 0.5e6
        }
    }
    return nil
}

/// zita-n2j's CPU seconds per audio second and peak RSS (KiB) receiving one stream from
/// zita-j2n (2 channels, float, a packet a JACK period) for `duration`, after its start-up.
func zitaCPU(duration: Double) throws -> (cpu: Double, peakKiB: Int) {
    let receiver = try run("/usr/bin/zita-n2j", ["--jname", "bench-n2j", "127.0.0.1", "9500"], wait: false)
    let sender = try run("/usr/bin/zita-j2n", ["--jname", "bench-j2n", "--chan", "2", "--float", "127.0.0.1", "9500"], wait: false)
    defer { for process in [sender, receiver] { process.interrupt(); process.waitUntilExit() } }
    usleep(3_000_000)
    let start = cpuSeconds(of: receiver) ?? 0
    usleep(useconds_t(duration * 1e6))
    let used = (cpuSeconds(of: receiver) ?? 0) - start
    return (used / duration, peakKiB(of: receiver) ?? 0)
}

/// What zita-n2j did with one stream from zita-j2n on the rig at `--buff buffer` for `duration`:
/// each impulse's delay from the probe's output to its input, ns, and the gaps in the sine.
@MainActor func zitaRun(buffer: Int, duration: Double) throws -> (delays: [Double], gaps: Int, missing: Int) {
    let receiver = try run("/usr/bin/zita-n2j", ["--jname", "bench-n2j", "--buff", "\(buffer)", "127.0.0.1", "9500"], wait: false)
    let sender = try run("/usr/bin/zita-j2n", ["--jname", "bench-j2n", "--chan", "2", "--float", "127.0.0.1", "9500"], wait: false)
    defer {
        jack_probe_generate(0, 0)
        for process in [sender, receiver] { process.interrupt(); process.waitUntilExit() }
    }
    for _ in 0..<50 where jack_probe_connect_outputs("^bench-j2n:") < 2 { usleep(100_000) }
    connectProbe("^bench-n2j:")
    jack_probe_restart()
    usleep(10_000)
    jack_probe_generate(4_800, 1_000)
    // zita-n2j locks its resampler to the stream within a couple of seconds: what it plays meanwhile is not counted.
    let settle = 3.0
    usleep(useconds_t((settle + duration) * 1e6))
    let recording = (0..<2).map { channel -> [Float] in
        var samples = [Float](repeating: 0, count: jack_probe_frames())
        _ = jack_probe_copy(Int32(channel), &samples, samples.count)
        return samples
    }
    let first = Int(settle * 48_000)
    let emitted = (0..<jack_probe_emitted()).map { jack_probe_emitted_time_usecs($0) }
    var delays: [Double] = []
    var quiet = 1_000
    for index in first..<recording[0].count {
        if abs(recording[0][index]) >= 0.3 {
            if quiet >= 1_000 {
                let heard = jack_probe_pulse_time_usecs(index)
                if let sent = emitted.last(where: { $0 <= heard }) { delays.append((heard - sent) * 1000) }
            }
            quiet = 0
        } else {
            quiet += 1
        }
    }
    // A gap: 24 or more samples in a row near zero, where a 1 kHz sine of amplitude 0.5 spends two.
    var gaps = 0, run = 0
    for sample in recording[1][first...] {
        if abs(sample) < 0.05 { run += 1 } else { run = 0 }
        if run == 24 { gaps += 1 }
    }
    let expected = Int(Double(recording[0].count - first) / 4_800)
    return (delays, gaps, max(0, expected - 1 - delays.count))
}

/// zita-n2j's smallest clean `--buff` and its delay from written to heard, ns.
@MainActor func zitaSmallestClean() throws -> (buffer: Int, delay: Double)? {
    say("\nzita-j2n → zita-n2j (zita-njbridge, Debian), one 2-channel stream packetised by JACK period, -p 256:")
    say("the probe writes an impulse every 100 ms and a sine into zita-j2n and records zita-n2j; delay = recorded − written")
    // zita-n2j takes --buff in whole milliseconds: its sweep steps by 1 ms.
    var zitaSmallest: (buffer: Int, delay: Double)?
    var buffer = 0
    var screened = false, retried = false
    while buffer <= 20 {
        let length = screened ? 60.0 : 10
        let result = try zitaRun(buffer: buffer, duration: length)
        let sorted = result.delays.sorted()
        let median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        say(String(format: "  --buff %d %d s: delay median %@ (min %@, max %@), %d gaps, %d impulses missing", buffer, Int(length),
                   milliseconds(median), milliseconds(sorted.first ?? 0), milliseconds(sorted.last ?? 0), result.gaps, result.missing) + xrunNote())
        let clean = result.gaps == 0 && result.missing == 0 && !sorted.isEmpty
        if retryAfterRigStall(clean: clean, retried: &retried) { continue }
        if clean && screened { zitaSmallest = (buffer, median); break }
        if clean { screened = true } else { buffer += 1 }
    }
    if let zita = zitaSmallest {
        say(String(format: "zita-n2j smallest clean --buff %d: written → heard %@; capture → heard %@ (+ the period a capture port holds a sample)",
                   zita.buffer, milliseconds(zita.delay), milliseconds(zita.delay + rigPeriod)))
    } else {
        say("zita-n2j: no clean --buff up to 20 ms")
    }
    return zitaSmallest
}

/// The live-sender latency part: jamplay's smallest clean latency at zita-j2n's phase of the
/// sender's frames against the device's periods and at the phase needing least,
/// `--latency auto`'s, and zita-n2j's.
/// With BENCH_LIVE=auto, only `--latency auto`'s rows (after a change to how it chooses); with
/// BENCH_LIVE=small, only the small periods' row.
@MainActor func liveSenderLatency() throws {
    let automaticOnly = ProcessInfo.processInfo.environment["BENCH_LIVE"] == "auto"
    let smallOnly = ProcessInfo.processInfo.environment["BENCH_LIVE"] == "small"
    let zitaSmallest = automaticOnly || smallOnly ? nil : try zitaSmallestClean()

    for frame in smallOnly ? [] : [256, 480] {
        say("\njamplay, a capture sender of \(frame)-sample frames over UDP (jamsend --capture), -p 256")
        // Where the frames fall against the device's periods: the latency each phase needs, read
        // from /status (the stream's p99 over its window) at a generous fixed latency.
        var needs: [(phase: Double, needed: Double)] = []
        for step in 0..<8 {
            let phase = Double(step) * rigPeriod / 8
            let result = try liveRun(latency: "30ms", frame: frame, phase: phase, duration: 10)
            needs.append((phase, result.needed))
            say(String(format: "  first sample %4.0f µs after a cycle: needs %@", phase / 1000, milliseconds(result.needed)))
        }
        guard let least = needs.min(by: { $0.needed < $1.needed }) else { continue }
        var smallest: [Double?] = []
        // zita-j2n's phase here: a period's samples sent at the start of the next cycle, as a
        // frame whose first sample lies on a cycle start is. The phase needing least has no
        // slack: its frames arrive just before their period is mixed, so a late one waits a
        // period more, and its smallest clean latency is the most any phase needs. Frames longer
        // than a period fall on every phase in turn: one phase stands for all.
        let phases = Double(frame) / 48_000 * 1e9 > rigPeriod ? [("every", needs[0])] : [("zita's", needs[0]), ("least-need", least)]
        for (name, choice) in phases {
            say(String(format: "  %@ phase (%.0f µs), needs %@", name, choice.phase / 1000, milliseconds(choice.needed))
                  + (automaticOnly ? "" : ": smallest clean fixed latency"))
            let found = automaticOnly ? nil : try smallestCleanLatency(frame: frame, phase: choice.phase, need: choice.needed)
            smallest.append(found)
            if !automaticOnly { say("  smallest: " + (found.map(milliseconds) ?? "none up to 40 ms")) }
            let automatic = try liveRun(latency: "auto", frame: frame, phase: choice.phase, duration: 60)
            say("  --latency auto 60 s: settled at \(milliseconds(automatic.settled)), \(automatic.underruns) underruns, "
                  + "\(automatic.silentFrames) silent frames, \(automatic.lateFrames) late frames" + gapTimes(automatic) + xrunNote())
        }
        // The network worsens mid-run: each datagram delayed by a uniform 0–3 ms from 30 s on.
        let step = 30.0
        let jittered = try liveRun(latency: "auto", frame: frame, phase: needs[0].phase, duration: 60, extra: ["--jitter", "3ms", "--jitter-after", "30s"])
        let after = jittered.gapsAt.filter { $0 >= step }
        say("  --latency auto, jitter 0 → 0–3 ms at 30 s (\(phases[0].0) phase): \(jittered.lateFrames) late frames, \(jittered.silentFrames) silent frames; "
              + (after.last.map { String(format: "the last gap %.1f s after the step", $0 - step) } ?? "no gap after the step")
              + "; settled at \(milliseconds(jittered.settled))" + xrunNote())
        if frame == 256, let zita = zitaSmallest {
            let differences = zip(phases, smallest).map { phase, latency in
                latency.map { String(format: "%@ phase %+.2f ms", phase.0, ($0 - zita.delay - rigPeriod) / 1e6) } ?? "\(phase.0) phase: none"
            }
            say("  beside zita-n2j's capture → heard \(milliseconds(zita.delay + rigPeriod)): " + differences.joined(separator: ", ") + " (target ≤ +1.5 ms)")
        }
    }
    // Small periods, as on a sound card run with --period-frames 64: the same code, a quarter of the path.
    try startJack(period: 64)
    let small = try liveRun(latency: "auto", frame: 64, phase: 0, duration: 60, playerExtra: ["--period-frames", "64"])
    say("\n-p 64, jamplay --period-frames 64, a capture sender of 64-sample frames over UDP: device path \(milliseconds(small.devicePath)); "
          + "--latency auto 60 s: settled at \(milliseconds(small.settled)), \(small.underruns) underruns, \(small.silentFrames) silent frames, "
          + "\(small.lateFrames) late frames" + gapTimes(small) + xrunNote())
}
