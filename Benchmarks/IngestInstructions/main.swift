import Authentication
import Core
import Foundation
import Ingest
import Wire

// `make bench`: the ingest path's cost per line in instructions, counted by callgrind (which
// repeats exactly on a noisy machine), beside decoding the same lines alone, and with
// authentication (`--keys`: every line signed, jamnet/1.2) beside without. The workload is a
// live sender's: a 48 kHz stereo stream of 256-sample GPU-stamped frames with `seq`, a
// calibration block every second, each line arriving 5 ms after its stamp; playback's reads of the
// ring happen between lines and are not counted. Then, in wall time, rounds of the two ingest
// workloads interleaved, and the codes one core checks a second.
//
//     IngestInstructions            runs itself under valgrind and prints every figure
//     IngestInstructions --workload ingest|ingest-signed|decode    the workload alone (what callgrind runs)

let frameLength = 256, channels = 2, frameCount = 20_000
let gpuOffset: Int64 = 7_000_000_000_000, start: Int64 = 1_000_000_000_000

let key = try! AuthenticationKey(id: "bench", secret: Array(0..<32))

/// The capture: (line, arrival time) in order; each line signed with `key` when `signed`.
func capture(signed: Bool = false) -> [(line: [UInt8], arrival: Int64)] {
    let signer = signed ? LineSigner(key: key) : nil
    var lines: [(line: [UInt8], arrival: Int64)] = []
    var random = SeededRandomNumberGenerator(seed: 1)
    for number in 0..<frameCount {
        let time = start + Int64(number) * Int64(frameLength) * 1_000_000_000 / 48_000
        if number % 188 == 0 {
            var block: [UInt8] = []
            try! JamnetEncoder().encode(SyncCalibrationBlock(timestampCPU: time, timestampGPU: time + gpuOffset, maxDeviation: 2_000, sessionID: "bench"), into: &block)
            signer?.sign(&block)
            lines.append((block, time))
        }
        let samples = (0..<frameLength * channels).map { index in
            Float(0.5 * sin(Double(number * frameLength + index / 2) * 0.0575)) + Float.random(in: -0.01...0.01, using: &random)
        }
        var line: [UInt8] = []
        let header = AudioFrameHeader(timestamp: .gpu(time + gpuOffset), sessionID: "bench", streamID: "main", sequence: UInt64(number),
                                      channelCount: ChannelCount(channels))
        try! JamnetEncoder().encode(header, samples: samples, into: &line)
        signer?.sign(&line)
        lines.append((line, time + Int64(frameLength) * 1_000_000_000 / 48_000 + 5_000_000))
    }
    return lines
}

/// Feeds every line to a session table, reading the ring behind the newest frame as playback would.
@inline(never) func ingest(_ lines: [(line: [UInt8], arrival: Int64)], signed: Bool = false) -> Int {
    var configuration = IngestConfiguration()
    configuration.keys = signed ? KeyRing([key]) : nil
    let table = SessionTable(configuration: configuration)
    let source = SourceKey(transport: .udp, address: "127.0.0.1", port: 40_000)
    let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: frameLength * channels)
    defer { output.deallocate() }
    var readPosition: Int64 = 0, stored = 0
    for (line, arrival) in lines {
        line.withUnsafeBytes { ingestLine(table, $0, source, arrival) }
        guard let ring = (signed ? table.session(keyID: "bench", "bench") : table.session(source, "bench"))?.streams["main"]?.ring else { continue }
        stored = ring.stored
        while readPosition + Int64(frameLength) * 4 <= Int64(stored * frameLength) {
            ring.read(from: readPosition, frameCount: frameLength, into: output)
            readPosition += Int64(frameLength)
        }
    }
    return stored
}

@inline(never) func ingestLine(_ table: SessionTable, _ line: UnsafeRawBufferPointer, _ source: SourceKey, _ arrival: Int64) {
    table.receive(line, from: source, at: Nanoseconds(arrival))
}

@inline(never) func decode(_ lines: [(line: [UInt8], arrival: Int64)]) -> Int {
    var decoder = JamnetDecoder()
    let samples = UnsafeMutableBufferPointer<Float>.allocate(capacity: 65_536)
    defer { samples.deallocate() }
    var frames = 0
    for (line, _) in lines {
        if case .audioFrame = line.withUnsafeBytes({ decodeLine(&decoder, $0, samples) }) { frames += 1 }
    }
    return frames
}

@inline(never) func decodeLine(_ decoder: inout JamnetDecoder, _ line: UnsafeRawBufferPointer, _ samples: UnsafeMutableBufferPointer<Float>) -> DecodedLine {
    decoder.decode(line, samples: samples)
}

let arguments = CommandLine.arguments
if let index = arguments.firstIndex(of: "--workload"), index + 1 < arguments.count {
    let workload = arguments[index + 1]
    let lines = capture(signed: workload == "ingest-signed")
    let handled = workload == "decode" ? decode(lines) : ingest(lines, signed: workload == "ingest-signed")
    print("\(arguments[index + 1]): \(lines.count) lines, \(handled) frames")
    exit(handled > frameCount / 2 ? 0 : 1)
}

/// Runs the workload under callgrind, counting only inside `function`; instructions per line.
func instructions(workload: String, function: String) -> Double? {
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("callgrind-\(workload)-\(getpid()).out").path
    defer { try? FileManager.default.removeItem(atPath: output) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/valgrind")
    process.arguments = ["--tool=callgrind", "--callgrind-out-file=\(output)", "--toggle-collect=\(function)", strippedCopy, "--workload", workload]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    process.waitUntilExit()
    guard process.terminationStatus == 0, let text = try? String(contentsOfFile: output, encoding: .utf8),
          let totals = text.split(separator: "\n").first(where: { $0.hasPrefix("summary:") || $0.hasPrefix("totals:") }),
          let count = Double(totals.split(separator: " ").last ?? "")
    else { return nil }
    let lines = Double(frameCount + (frameCount + 187) / 188)
    return count / lines
}

guard FileManager.default.isExecutableFile(atPath: "/usr/bin/valgrind"), FileManager.default.isExecutableFile(atPath: "/usr/bin/objcopy") else {
    print("IngestInstructions: valgrind or objcopy is missing (apt-get install valgrind binutils)")
    exit(1)
}
// Valgrind 3.19 cannot read the DWARF this toolchain writes: it runs a copy without debug
// information (the symbols that --toggle-collect names stay).
let strippedCopy = FileManager.default.temporaryDirectory.appendingPathComponent("IngestInstructions-\(getpid())").path
let strip = Process()
strip.executableURL = URL(fileURLWithPath: "/usr/bin/objcopy")
strip.arguments = ["--strip-debug", CommandLine.arguments[0], strippedCopy]
try strip.run()
strip.waitUntilExit()
defer { try? FileManager.default.removeItem(atPath: strippedCopy) }
print("Ingest instructions per line (callgrind; \(frameCount) frames of \(frameLength) stereo samples, a calibration block a second):")
let decodeOnly = instructions(workload: "decode", function: "*decodeLine*")
let ingestPath = instructions(workload: "ingest", function: "*ingestLine*")
func shown(_ value: Double?) -> String { value.map { String(format: "%.0f", $0) } ?? "failed" }
print("  decoding alone (JamnetDecoder):             \(shown(decodeOnly))")
print("  ingest (SessionTable.receive: decode, clocks, timeline, ring):  \(shown(ingestPath))")
if let decodeOnly, let ingestPath { print(String(format: "  ingest / decoding alone: %.3f", ingestPath / decodeOnly)) }
let signedPath = instructions(workload: "ingest-signed", function: "*ingestLine*")
print("  ingest with --keys, every line signed (code checked, counter windowed):  \(shown(signedPath))")
if let ingestPath, let signedPath { print(String(format: "  with keys / without: %.3f (target ≤ 1.05)", signedPath / ingestPath)) }

// Wall time: the two ingest workloads in alternating rounds (the machine's noise falls on both).
let plain = capture(), signed = capture(signed: true)
var rounds: (plain: [Double], signed: [Double]) = ([], [])
for _ in 0..<7 {
    for isSigned in [false, true] {
        let started = DispatchTime.now().uptimeNanoseconds
        _ = ingest(isSigned ? signed : plain, signed: isSigned)
        let perLine = Double(DispatchTime.now().uptimeNanoseconds - started) / Double(plain.count)
        if isSigned { rounds.signed.append(perLine) } else { rounds.plain.append(perLine) }
    }
}
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
print(String(format: "Ingest wall time per line, median of 7 interleaved rounds: without keys %.0f ns, with keys %.0f ns (%.3f)",
             median(rounds.plain), median(rounds.signed), median(rounds.signed) / median(rounds.plain)))

// Codes checked a second on one core: a frame's line (256 stereo samples) and a calibration block's.
let ring = KeyRing([key])
for (name, line) in [("256-sample stereo frame", signed[1].line), ("calibration block", signed[0].line)] {
    var decoder = JamnetDecoder()
    var scratch = [Float](repeating: 0, count: 4_096)
    _ = decoder.decode(line, samples: &scratch)
    let signature = decoder.signature
    var checks = 0
    let started = DispatchTime.now().uptimeNanoseconds
    var elapsed: UInt64 = 0
    line.withUnsafeBytes { bytes in
        while elapsed < 1_000_000_000 {
            for _ in 0..<100 { if case .success = ring.authenticate(bytes, signature) { checks += 1 } }
            elapsed = DispatchTime.now().uptimeNanoseconds - started
        }
    }
    let perSecond = Double(checks) / (Double(elapsed) * 1e-9)
    print(String(format: "MAC checks a second on one core, %@ (%d bytes): %.0f (%.0f MB/s)", name, line.count, perSecond, perSecond * Double(line.count) * 1e-6))
}
