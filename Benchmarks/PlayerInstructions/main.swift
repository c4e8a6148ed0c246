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
//     PlayerInstructions [SECONDS]      10 s idle, then 10 s of the stream, by default
//     BENCH_CALLGRIND_DIR=DIR            keeps the two dumps there (idle.out, stream.out) for
//                                        callgrind_annotate: where the instructions go, by function

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

let output = NSTemporaryDirectory() + "callgrind-player-\(getpid()).out"
let log = NSTemporaryDirectory() + "callgrind-player-\(getpid()).log"
_ = FileManager.default.createFile(atPath: log, contents: nil)
let process = Process()
process.executableURL = URL(fileURLWithPath: "/usr/bin/valgrind")
process.arguments = ["--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=\(output)", player,
                     "--device", "null", "--http", "off", "--rt-priority", "0", "--listen", "127.0.0.1:\(port)", "--latency", "200ms"]
process.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
process.standardOutput = FileHandle(forWritingAtPath: log)
process.standardError = process.standardOutput
try process.run()
func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
for _ in 0..<600 where !logText().contains("listening on") { usleep(100_000) }
guard logText().contains("listening on") else {
    say("PlayerInstructions: jamplay did not start under valgrind:\n\(logText())")
    process.terminate()
    exit(1)
}
let pid = String(process.processIdentifier)
defer {
    if let keep = ProcessInfo.processInfo.environment["BENCH_CALLGRIND_DIR"] {
        for (suffix, name) in [(".1", "idle.out"), (".2", "stream.out")] {
            try? FileManager.default.removeItem(atPath: keep + "/" + name)
            try? FileManager.default.copyItem(atPath: output + suffix, toPath: keep + "/" + name)
        }
    }
    for suffix in ["", ".1", ".2"] { try? FileManager.default.removeItem(atPath: output + suffix) }
}

/// Instructions in a callgrind dump.
func instructions(in path: String) -> Double? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8),
          let totals = text.split(separator: "\n").first(where: { $0.hasPrefix("summary:") || $0.hasPrefix("totals:") }) else { return nil }
    return Double(totals.split(separator: " ").last ?? "")
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
    try JamnetEncoder().encode(header, samples: samples, into: &line)
    clock.sleep(until: first + Nanoseconds(Int64(frameLength) * 1_000_000_000 / Int64(rate)))
    LoopbackSockets.sendDatagram(port: port, line, from: socket)
}
_ = run("/usr/bin/callgrind_control", ["-d", pid])
close(socket)
process.interrupt()
process.waitUntilExit()

let stopped = logText().split(separator: "\n").last { $0.contains("stopped:") }.map(String.init) ?? "(no counters: \(logText().suffix(400)))"
guard let idle = instructions(in: output + ".1"), let streaming = instructions(in: output + ".2") else {
    say("PlayerInstructions: no callgrind dumps")
    exit(1)
}
say("Whole jamplay process, instructions per audio second (callgrind; null device, -p 256; \(Int(seconds)) s each):")
say(String(format: "  idle (device running, no stream):                   %.0f", idle / seconds))
say(String(format: "  one UDP stream, 256-sample stereo frames (capture):  %.0f  (%.0f above idle)", streaming / seconds, (streaming - idle) / seconds))
say("  the player's counters: " + (stopped.components(separatedBy: "stopped: ").last ?? stopped))
