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
    var generator = SeededRandomNumberGenerator(seed: 42)  // the same noise every run
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

/// One decoder under test: a timed pass decodes every line `rounds` times and returns the seconds.
struct Contender {
    var name: String
    var rounds: Int
    var pass: () -> Double
}

func seconds(_ body: () -> Void) -> Double {
    let start = ContinuousClock.now
    body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}

/// A contender decoding line by line in this process; `decodeOne` must succeed on every line.
func inProcess(_ name: String, rounds: Int, _ lines: [[UInt8]], _ decodeOne: @escaping ([UInt8]) -> Bool) -> Contender {
    Contender(name: name, rounds: rounds) {
        seconds {
            var decoded = 0
            for _ in 0..<rounds {
                for line in lines where decodeOne(line) { decoded += 1 }
            }
            precondition(decoded == rounds * lines.count, "\(name) failed to decode a benchmark line")
        }
    }
}

/// simdjson through the C++ helper (path given as the first argument), which times itself.
func simdjson(rounds: Int, _ lines: [[UInt8]]) -> Contender? {
    guard CommandLine.arguments.count > 1 else { return nil }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("jamnet-bench-\(getpid()).jsonl")
    try! Data(lines.flatMap { $0 + [UInt8(ascii: "\n")] }).write(to: file)
    return Contender(name: "simdjson (C++)", rounds: rounds) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[1])
        process.arguments = [file.path, String(rounds), "1"]
        let output = Pipe()
        process.standardOutput = output
        try! process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let figures = text.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard process.terminationStatus == 0, figures.count == 3 else { fatalError("simdjson_decode failed: \(text)") }
        let bytes = lines.reduce(0) { $0 + $1.count } * rounds
        return Double(bytes) / (figures[0] * 1e6)
    }
}

/// Runs the contenders' passes interleaved (so a burst of noise hits them alike) and keeps each
/// one's best pass.
func report(_ variant: String, _ lines: [[UInt8]], passes: Int = 9) {
    var decoder = JamnetDecoder()
    var samples = [Float](repeating: 0, count: framesPerLine * channels)
    let jsonDecoder = JSONDecoder()
    var contenders = [
        inProcess("jamnet (this)", rounds: 20, lines) { line in
            samples.withUnsafeMutableBufferPointer { buffer in
                line.withUnsafeBytes { raw in
                    if case .audioFrame(_, framesPerLine * channels, _) = decoder.decode(raw, samples: buffer) { return true }
                    return false
                }
            }
        },
        inProcess("JSONSerialization", rounds: 1, lines) { line in
            let object = try! JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
            return (object["payload"] as! [Any]).count == framesPerLine * channels
        },
        inProcess("JSONDecoder", rounds: 1, lines) { line in
            (try! jsonDecoder.decode(CodableFrame.self, from: Data(line))).payload.count == framesPerLine * channels
        },
    ]
    if let simdjson = simdjson(rounds: 20, lines) { contenders.append(simdjson) }
    var best = [Double](repeating: .infinity, count: contenders.count)
    for _ in 0..<passes {
        for (index, contender) in contenders.enumerated() { best[index] = min(best[index], contender.pass()) }
    }
    let lineBytes = lines.reduce(0) { $0 + $1.count }
    let results = contenders.indices.map {
        Measurement(seconds: best[$0], lines: contenders[$0].rounds * lines.count, bytes: contenders[$0].rounds * lineBytes)
    }
    let baseline = results[2].megabytesPerSecond
    print("\n\(variant): \(lines.count) lines of \(framesPerLine) frames × \(channels) channels, \(lineBytes / lines.count) bytes each")
    print("decoder              MB/s   frames/s  ns/sample  × JSONDecoder")
    for (contender, result) in zip(contenders, results) {
        print(contender.name.padding(toLength: 18, withPad: " ", startingAt: 0)
              + String(format: "%8.1f %10.0f %10.2f %13.1f", result.megabytesPerSecond, result.framesPerSecond,
                       result.nanosecondsPerSample, result.megabytesPerSecond / baseline))
    }
}

print("jamnet decode benchmark (release build; best of 9 interleaved passes)")
report("shortest-form floats", makeLines(sixDecimals: false))
report("6-decimal floats", makeLines(sixDecimals: true))
