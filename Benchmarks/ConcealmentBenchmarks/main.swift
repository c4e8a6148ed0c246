import Buffer
import Concealment
import ConcealmentMeasurement
import Core
import Foundation

// Loss concealment, offline and deterministic (BENCHMARKS.md, "Loss concealment"): the same
// signals through the same loss patterns of 10 ms frames, each gap filled by silence, by
// repeating the last frame, by Opus's own concealment (libopus, 510 kbit/s, FEC off, scored
// against its own decode of the whole take), and by jamplay's prediction, forward-only and
// two-sided. Figures: signal to error over the lost spans, and segmental SNR over the take.
//
//   ConcealmentBenchmarks [OPUS_CONCEAL]   (make bench builds Benchmarks/opus/opus_conceal.c)

let arguments = CommandLine.arguments
let opusTool = arguments.count > 1 ? arguments[1] : ".build/release/opus_conceal"
let seconds = Double(ProcessInfo.processInfo.environment["BENCH_SECONDS"] ?? "") ?? 20
let haveOpus = FileManager.default.isExecutableFile(atPath: opusTool)
if !haveOpus { print("Opus: \(opusTool) is missing (make bench builds it from Benchmarks/opus/opus_conceal.c); its column is empty") }

var signals: [TestSignal] = [.vibratoTone(seconds: seconds), .pluckedTone(seconds: seconds), .chord(seconds: seconds)]
switch TestSignal.speech() {
case .success(let speech): signals.append(speech)
case .failure(let why): print("speech: left out: \(why)")
}
signals.append(.noise(seconds: seconds))

/// Opus's lossless and concealed decodes of `signal` with `pattern`'s frames lost, and its look-ahead.
func opus(_ signal: TestSignal, _ pattern: LossPattern) -> (whole: [Float], concealed: [Float], lookahead: Int)? {
    guard haveOpus else { return nil }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("concealment-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let input = directory.appendingPathComponent("input.f32"), mask = directory.appendingPathComponent("loss.mask")
    let whole = directory.appendingPathComponent("whole.f32"), concealed = directory.appendingPathComponent("concealed.f32")
    signal.samples.withUnsafeBytes { try? Data($0).write(to: input) }
    try? Data(pattern.lost.map { $0 ? 1 : 0 }).write(to: mask)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: opusTool)
    process.arguments = [input.path, mask.path, whole.path, concealed.path]
    let output = Pipe()
    process.standardOutput = output
    guard (try? process.run()) != nil else { return nil }
    let printed = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let lookahead = Int(String(decoding: printed, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
          let wholeData = try? Data(contentsOf: whole), let concealedData = try? Data(contentsOf: concealed) else { return nil }
    func floats(_ data: Data) -> [Float] { data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }
    return (floats(wholeData), floats(concealedData), lookahead)
}

func cell(_ score: ConcealmentScore?, level: Bool) -> String {
    guard let score else { return "—" }
    let text = String(format: "%.1f / %.1f", score.lostSpanSNR, score.segmentalSNR)
    guard level else { return text }
    return text + (score.levelChange < -200 ? " (silent)" : String(format: " (%+.1f dB)", score.levelChange))
}

print("Loss concealment: \(Int(seconds)) s of each signal, 48 kHz stereo, 10 ms frames; settings \(ConcealmentSettings.standard)")
print("Each cell: SNR over the lost spans / segmental SNR of the whole take, dB (noise: and the level over the lost spans beside the original's)")
let methods = ConcealmentSimulation.Method.allCases
print("| signal | loss | " + ["silence", "repeat last frame", "Opus PLC", "jamplay forward", "jamplay two-sided"].joined(separator: " | ") + " |")
print("|" + String(repeating: " --- |", count: 7))
var summary: [String] = []
for signal in signals {
    let frames = signal.frames / LossPattern.frameLength
    for pattern in [LossPattern.random(0.01, frames: frames), .random(0.05, frames: frames), .random(0.10, frames: frames), .bursts(0.05, frames: frames)] {
        let gaps = pattern.gaps
        var scores: [ConcealmentSimulation.Method: ConcealmentScore] = [:]
        for method in methods {
            let output = ConcealmentSimulation.play(signal, losing: pattern, with: method)
            scores[method] = ConcealmentScore(output: output, reference: signal.samples, gaps: gaps, channels: TestSignal.channels)
        }
        let opusScore = opus(signal, pattern).map {
            ConcealmentScore(output: $0.concealed, reference: $0.whole, gaps: gaps, channels: TestSignal.channels, offset: $0.lookahead)
        }
        let level = !signal.isTonal
        let row = [cell(scores[.silence], level: level), cell(scores[.repeatLast], level: level), cell(opusScore, level: level),
                   cell(scores[.forward], level: level), cell(scores[.twoSided], level: level)]
        print("| \(signal.name) | \(pattern.name) (\(String(format: "%.1f", pattern.fraction * 100)) %) | " + row.joined(separator: " | ") + " |")
        if pattern.name == "5 % random", let best = scores[.twoSided], let silence = scores[.silence] {
            let beatsOpus = opusScore.map { best.lostSpanSNR > $0.lostSpanSNR } ?? false
            summary.append(signal.isTonal
                ? "\(signal.name): two-sided \(String(format: "%+.1f", best.lostSpanSNR - silence.lostSpanSNR)) dB on silence (target ≥ +15), \(beatsOpus ? "better" : "not better") than Opus"
                : "\(signal.name): level over concealed spans \(String(format: "%+.1f", best.levelChange)) dB (noise target ≤ +1)")
        }
    }
}
print("")
summary.forEach { print($0) }

// What one prediction costs the thread that makes it: a 10 ms gap of the chord, 48 kHz stereo,
// from 40 ms each side (the settings above), forward and two-sided.
let chord = TestSignal.chord(seconds: 2)
let settings = ConcealmentSettings.standard
let rate = SampleRate(hertz: TestSignal.rate)
let window = ConcealmentSettings.frames(settings.history, at: rate)
let concealer = GapConcealer(channels: TestSignal.channels, rate: TestSignal.rate, maximumGap: ConcealmentSettings.frames(settings.limit, at: rate),
                             order: settings.order, window: window)
var scratch = [Float](repeating: 0, count: 480 * TestSignal.channels)
let rounds = 400
for twoSided in [false, true] {
    let clock = ContinuousClock()
    let elapsed = clock.measure {
        chord.samples.withUnsafeBufferPointer { samples in
            scratch.withUnsafeMutableBufferPointer { output in
                for round in 0..<rounds {
                    let gap = 4_800 + (round % 100) * 480
                    let before = samples.baseAddress! + (gap - window) * TestSignal.channels
                    if twoSided {
                        concealer.bridge(before: before, beforeFrames: window, after: samples.baseAddress! + (gap + 480) * TestSignal.channels,
                                         afterFrames: window, gap: 480, crossfade: 96, into: output.baseAddress!)
                    } else {
                        concealer.continueForward(history: before, historyFrames: window, count: 480, into: output.baseAddress!)
                    }
                }
            }
        }
    }
    let microseconds = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
    print(String(format: "one %@ prediction of 10 ms (48 kHz stereo): %.0f µs", twoSided ? "two-sided" : "forward", microseconds / Double(rounds)))
}

// What the playback thread spends a period on a stream losing 5 % of its frames, concealment on
// beside off (interleaved rounds; the figures are wall time on a shared machine).
var costs: [Bool: [(mean: Double, p99: Double, worst: Double)]] = [:]
for _ in 0..<3 { for on in [false, true] { costs[on, default: []].append(RenderCost.measure(concealment: on)) } }
for on in [false, true] {
    let runs = costs[on] ?? []
    let mean = runs.map(\.mean).sorted()[runs.count / 2], p99 = runs.map(\.p99).sorted()[runs.count / 2], worst = runs.map(\.worst).max() ?? 0
    print(String(format: "playback thread, one stream at 5 %% loss, concealment %@: %.1f µs a period (p99 %.1f µs, worst %.1f µs; median of 3 runs, worst of all)",
                 on ? "on " : "off", mean / 1_000, p99 / 1_000, worst / 1_000))
}
