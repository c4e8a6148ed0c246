import Core
import Foundation
import Wire

// `make bench`: jamnet decode throughput of realistic `jdat` lines through the project's decoder,
// and in the same run through Foundation's JSONSerialization and JSONDecoder on the same bytes,
// and through simdjson (C++) when the path of the `simdjson_decode` helper is given as the first
// argument. Each figure is the best of several timed passes (these machines are noisy; ratios hold).

let framesPerLine = 480
let channels = 2
let lineCount = 256

/// What JSONDecoder decodes: the fields a receiver needs.
struct CodableFrame: Decodable {
    var type: String
    var version: String?
    var timestamp_gpu: Int64?
    var session_id: String?
    var stream_id: String?
    var seq: UInt64?
    var sample_rate: Int?
    var channels: Int?
    var payload: [Float]
}

/// A stereo test signal (two sines and a little noise), as a sender would stream it.
func makeLines(sixDecimals: Bool) -> [[UInt8]] {
    var generator = SystemRandomNumberGenerator()
    var lines: [[UInt8]] = []
    for index in 0..<lineCount {
        var samples: [Float] = []
        for frame in 0..<framesPerLine {
            let time = Double(index * framesPerLine + frame) / 48_000
            samples.append(Float(0.6 * sin(2 * .pi * 440 * time) + Double.random(in: -0.01...0.01, using: &generator)))
            samples.append(Float(0.4 * sin(2 * .pi * 660 * time)))
        }
        let header = AudioFrameHeader(
            timestamp: .gpu(1_701_234_600_000_000 + Int64(index) * 10_000_000), sessionID: "bench-session", streamID: "main",
            sequence: UInt64(index), channelCount: ChannelCount(channels))
        var line: [UInt8] = []
        if sixDecimals {
            let payload = samples.map { String(format: "%.6f", $0) }.joined(separator: ",")
            line = Array("{\"type\":\"jdat\",\"version\":\"jamnet/1.0\",\"timestamp_gpu\":\(1_701_234_600_000_000 + index * 10_000_000),\"session_id\":\"bench-session\",\"stream_id\":\"main\",\"seq\":\(index),\"sample_rate\":48000,\"channels\":2,\"payload\":[\(payload)]}".utf8)
        } else {
            try! JamnetEncoder().encode(header, samples: samples, into: &line)
        }
        lines.append(line)
    }
    return lines
}

struct Measurement {
    var seconds: Double
    var lines: Int
    var bytes: Int
    var megabytesPerSecond: Double { Double(bytes) / seconds / 1e6 }
    var framesPerSecond: Double { Double(lines) / seconds }
    var nanosecondsPerSample: Double { seconds * 1e9 / Double(lines * framesPerLine * channels) }
}

/// Best of `passes` passes, each decoding every line `rounds` times.
func measure(passes: Int, rounds: Int, lines: [[UInt8]], _ decodeOne: ([UInt8]) -> Bool) -> Measurement {
    let bytes = lines.reduce(0) { $0 + $1.count }
    var best = Double.infinity
    for _ in 0..<passes {
        let start = ContinuousClock.now
        var decoded = 0
        for _ in 0..<rounds {
            for line in lines where decodeOne(line) { decoded += 1 }
        }
        let elapsed = ContinuousClock.now - start
        precondition(decoded == rounds * lines.count, "a benchmark line failed to decode")
        best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
    return Measurement(seconds: best, lines: rounds * lines.count, bytes: rounds * bytes)
}

func report(_ variant: String, _ lines: [[UInt8]]) {
    var decoder = JamnetDecoder()
    var samples = [Float](repeating: 0, count: framesPerLine * channels)
    let jamnet = measure(passes: 7, rounds: 20, lines: lines) { line in
        samples.withUnsafeMutableBufferPointer { buffer in
            line.withUnsafeBytes { raw in
                if case .audioFrame(_, framesPerLine * channels, _) = decoder.decode(raw, samples: buffer) { return true }
                return false
            }
        }
    }
    let serialization = measure(passes: 3, rounds: 1, lines: lines) { line in
        let object = try! JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
        return (object["payload"] as! [Any]).count == framesPerLine * channels
    }
    let jsonDecoder = JSONDecoder()
    let codable = measure(passes: 3, rounds: 1, lines: lines) { line in
        (try! jsonDecoder.decode(CodableFrame.self, from: Data(line))).payload.count == framesPerLine * channels
    }
    var results = [("jamnet (this)", jamnet), ("JSONSerialization", serialization), ("JSONDecoder", codable)]
    if let simdjson = measureSimdjson(lines) { results.append(("simdjson (C++)", simdjson)) }
    let averageLine = lines.reduce(0) { $0 + $1.count } / lines.count
    print("\n\(variant): \(lines.count) lines of \(framesPerLine) frames × \(channels) channels, \(averageLine) bytes each")
    print("decoder              MB/s   frames/s  ns/sample  × JSONDecoder")
    for (name, result) in results {
        print(name.padding(toLength: 18, withPad: " ", startingAt: 0)
              + String(format: "%8.1f %10.0f %10.2f %13.1f", result.megabytesPerSecond, result.framesPerSecond,
                       result.nanosecondsPerSample, result.megabytesPerSecond / codable.megabytesPerSecond))
    }
}

/// The same lines through the C++ helper, if its path was given: same passes and rounds as ours.
func measureSimdjson(_ lines: [[UInt8]]) -> Measurement? {
    guard CommandLine.arguments.count > 1 else { return nil }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("jamnet-bench-\(getpid()).jsonl")
    defer { try? FileManager.default.removeItem(at: file) }
    try! Data(lines.flatMap { $0 + [UInt8(ascii: "\n")] }).write(to: file)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[1])
    process.arguments = [file.path, "20", "7"]
    let output = Pipe()
    process.standardOutput = output
    try! process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let figures = text.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    guard process.terminationStatus == 0, figures.count == 3 else { fatalError("simdjson_decode failed: \(text)") }
    let bytes = lines.reduce(0) { $0 + $1.count } * 20
    return Measurement(seconds: Double(bytes) / (figures[0] * 1e6), lines: 20 * lines.count, bytes: bytes)
}

print("jamnet decode benchmark (release build; best of several passes)")
report("shortest-form floats", makeLines(sixDecimals: false))
report("6-decimal floats", makeLines(sixDecimals: true))
