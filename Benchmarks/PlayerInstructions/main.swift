import Core
import Foundation
import TestSupport
import Wire

// `make bench`: the whole jamplay process's instructions per audio second, counted by callgrind
// (which repeats nearly exactly on a noisy machine: every thread, the event loop, the playback
// thread, the tasks, wake-ups included), idle on the `null` device and while a fixed capture —
// one 48 kHz stereo stream of 256-sample frames, stamped on CLOCK_MONOTONIC, each sent once its
// last sample has passed, as a live sender sends — is replayed to it over loopback UDP. Needs
// the release jamplay beside this program, valgrind and binutils.
//
//     PlayerInstructions [SECONDS]      10 s idle, then 10 s of the stream, by default, in each of four runs:
//                                        concealment off and on, without loss and with 5 % of frames lost
//     BENCH_CALLGRIND_DIR=DIR            keeps the dumps there (RUN-idle.out, RUN-stream.out) for
//                                        callgrind_annotate: where the instructions go, by function
//     BENCH_PLAYER_RUNS=RUN,RUN          only those runs (conceal-off, conceal-on, conceal-off-loss, conceal-on-loss)
//     BENCH_PLAYER_BASELINE=PATH         also an earlier release jamplay, with the defaults and no loss, in the same run

let seconds = CommandLine.arguments.dropFirst().first.flatMap(Double.init) ?? 10
let frameLength = 256, channels = 2, rate = 48_000
let port = 9_700
let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()

func say(_ line: String) {
    print(line)
    fflush(nil)
}

func run(_ path: String, _ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}

guard FileManager.default.isExecutableFile(atPath: "/usr/bin/valgrind"), FileManager.default.isExecutableFile(atPath: "/usr/bin/callgrind_control"),
      FileManager.default.isExecutableFile(atPath: "/usr/bin/objcopy") else {
    say("PlayerInstructions: valgrind or objcopy is missing (apt-get install valgrind binutils)")
    exit(1)
}
// Valgrind 3.19 cannot read the DWARF this toolchain writes: it runs a copy without debug information.
let player = NSTemporaryDirectory() + "jamplay-\(getpid())"
guard run("/usr/bin/objcopy", ["--strip-debug", directory.appendingPathComponent("jamplay").path, player]) == 0 else {
    say("PlayerInstructions: no release jamplay beside this program (swift build -c release --product jamplay)")
    exit(1)
}
defer { try? FileManager.default.removeItem(atPath: player) }
let baselinePath = ProcessInfo.processInfo.environment["BENCH_PLAYER_BASELINE"]
let baseline = NSTemporaryDirectory() + "jamplay-baseline-\(getpid())"
if let baselinePath, run("/usr/bin/objcopy", ["--strip-debug", baselinePath, baseline]) != 0 {
    say("PlayerInstructions: BENCH_PLAYER_BASELINE=\(baselinePath) is not a jamplay binary")
    exit(1)
}
defer { try? FileManager.default.removeItem(atPath: baseline) }

/// Instructions in a callgrind dump.
func instructions(in path: String) -> Double? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8),
          let totals = text.split(separator: "\n").first(where: { $0.hasPrefix("summary:") || $0.hasPrefix("totals:") }) else { return nil }
    return Double(totals.split(separator: " ").last ?? "")
}

/// One run of the player with `arguments` added: its instructions per audio second idle and with
/// the stream (losing `loss` of its frames, seeded), and the counters it logged on stopping.
func measure(_ name: String, player: String = player, arguments: [String], loss: Double) -> (idle: Double, stream: Double, counters: String)? {
    let output = NSTemporaryDirectory() + "callgrind-player-\(getpid()).out"
    let log = NSTemporaryDirectory() + "callgrind-player-\(getpid()).log"
    _ = FileManager.default.createFile(atPath: log, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/valgrind")
    process.arguments = ["--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=\(output)", player,
                         "--device", "null", "--http", "off", "--rt-priority", "0", "--listen", "127.0.0.1:\(port)", "--latency", "200ms"] + arguments
    process.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
    process.standardOutput = FileHandle(forWritingAtPath: log)
    process.standardError = process.standardOutput
    guard (try? process.run()) != nil else { return nil }
    func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
    for _ in 0..<600 where !logText().contains("listening on") { usleep(100_000) }
    guard logText().contains("listening on") else {
        say("PlayerInstructions: jamplay did not start under valgrind:\n\(logText())")
        process.terminate()
        return nil
    }
    let pid = String(process.processIdentifier)
    defer {
        if let keep = ProcessInfo.processInfo.environment["BENCH_CALLGRIND_DIR"] {
            for (suffix, part) in [(".1", "idle"), (".2", "stream")] {
                let kept = keep + "/\(name)-\(part).out"
                try? FileManager.default.removeItem(atPath: kept)
                try? FileManager.default.copyItem(atPath: output + suffix, toPath: kept)
            }
        }
        for suffix in ["", ".1", ".2"] { try? FileManager.default.removeItem(atPath: output + suffix) }
        try? FileManager.default.removeItem(atPath: log)
    }

    // Idle: the device running, nothing to play.
    _ = run("/usr/bin/callgrind_control", ["-i", "on", pid])
    usleep(useconds_t(seconds * 1e6))
    _ = run("/usr/bin/callgrind_control", ["-d", pid])

    // One stream: a sine in 256-sample frames, each sent once its last sample's time has passed.
    let socket = LoopbackSockets.udpSocket()
    let clock = SystemMonotonicClock()
    let start = clock.now() + .milliseconds(20)
    let frameCount = Int(seconds * Double(rate)) / frameLength
    var samples = [Float](repeating: 0, count: frameLength * channels)
    var line: [UInt8] = []
    line.reserveCapacity(16_384)
    var random = SeededRandomNumberGenerator(seed: 17)
    for number in 0..<frameCount {
        for frame in 0..<frameLength {
            let value = Float(0.5 * sin(Double(number * frameLength + frame) * 2 * Double.pi * 997 / Double(rate)))
            samples[frame * channels] = value
            samples[frame * channels + 1] = value
        }
        let first = start + Nanoseconds(Int64(number * frameLength) * 1_000_000_000 / Int64(rate))
        let header = AudioFrameHeader(timestamp: .cpu(first.rawValue), sessionID: "bench", streamID: "main", sequence: UInt64(number),
                                      channelCount: ChannelCount(channels))
        line.removeAll(keepingCapacity: true)
        try? JamnetEncoder().encode(header, samples: samples, into: &line)
        clock.sleep(until: first + Nanoseconds(Int64(frameLength) * 1_000_000_000 / Int64(rate)))
        // The first second is never lost: the stream starts whole.
        if number > rate / frameLength && random.chance(loss) { continue }
        LoopbackSockets.sendDatagram(port: port, line, from: socket)
    }
    _ = run("/usr/bin/callgrind_control", ["-d", pid])
    close(socket)
    process.interrupt()
    process.waitUntilExit()

    let stopped = logText().split(separator: "\n").last { $0.contains("stopped:") }.map(String.init) ?? "(no counters: \(logText().suffix(400)))"
    guard let idle = instructions(in: output + ".1"), let streaming = instructions(in: output + ".2") else {
        say("PlayerInstructions: no callgrind dumps")
        return nil
    }
    return (idle / seconds, streaming / seconds, stopped.components(separatedBy: "stopped: ").last ?? stopped)
}

say("Whole jamplay process, instructions per audio second (callgrind; null device, -p 256; \(Int(seconds)) s each):")
let runs: [(name: String, label: String, arguments: [String], loss: Double)] = [
    ("conceal-off", "--conceal off, no loss", ["--conceal", "off"], 0),
    ("conceal-on", "concealment on (the default), no loss", [], 0),
    ("conceal-off-loss", "--conceal off, 5 % of frames lost", ["--conceal", "off"], 0.05),
    ("conceal-on-loss", "concealment on, 5 % of frames lost", [], 0.05),
]
var figures: [String: (idle: Double, stream: Double, counters: String)] = [:]
// BENCH_PLAYER_RUNS=NAME,NAME picks runs (to profile one with BENCH_CALLGRIND_DIR).
let picked = ProcessInfo.processInfo.environment["BENCH_PLAYER_RUNS"].map { Set($0.split(separator: ",").map(String.init)) }
for run in runs where picked?.contains(run.name) ?? true {
    guard let measured = measure(run.name, arguments: run.arguments, loss: run.loss) else { exit(1) }
    figures[run.name] = measured
    say(String(format: "  %@:", run.label))
    say(String(format: "    idle (device running, no stream):                   %.0f", measured.idle))
    say(String(format: "    one UDP stream, 256-sample stereo frames (capture):  %.0f  (%.0f above idle)", measured.stream, measured.stream - measured.idle))
    say("    the player's counters: " + measured.counters)
}
if let baselinePath, let measured = measure("baseline", player: baseline, arguments: [], loss: 0) {
    say("  baseline \(baselinePath), defaults, no loss:")
    say(String(format: "    idle (device running, no stream):                   %.0f", measured.idle))
    say(String(format: "    one UDP stream, 256-sample stereo frames (capture):  %.0f  (%.0f above idle)", measured.stream, measured.stream - measured.idle))
    if let now = figures["conceal-on"] { say(String(format: "  this jamplay / the baseline, with the stream: %.3f", now.stream / measured.stream)) }
}
if let off = figures["conceal-off"], let on = figures["conceal-on"], let offLoss = figures["conceal-off-loss"], let onLoss = figures["conceal-on-loss"] {
    say(String(format: "  concealment's cost on the stream: %+.1f %% without loss (target ≤ +10 %%), %+.1f %% at 5 %% loss (target ≤ +50 %%)",
               (on.stream / off.stream - 1) * 100, (onLoss.stream / offLoss.stream - 1) * 100))
}
