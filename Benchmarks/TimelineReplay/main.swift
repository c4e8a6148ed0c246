import Core
import Foundation
import Realtime

// Replays the device readings that `jamplay --trace-timing` recorded (PlaybackBenchmarks with
// BENCH_TRACE_DIR keeps them, with the impulses the JACK probe heard beside each) through
// `DeviceTimeline` with other settings, and reports the p99 of |error − median| each would have
// given, beside the recorded run's own. The error of an impulse moves by however much the other
// timeline puts its frame later or earlier; the stream's own position error (in the trace) can be
// taken out (`--without-stream-error`) to see the device timeline alone.
//
//     swift build -c release --product TimelineReplay
//     .build/release/TimelineReplay DIR [--phase-bandwidth 0.05,0.1,0.2] [--rate-bandwidth 0.05] [--group-ms 0,40] [--step-us 300,1e9] [--without-stream-error]

/// One period of a trace: what the loop wrote, when it believed the first frame is heard, and
/// the device reading after it.
struct Period {
    var written: Int64
    var firstHeardAt: Double
    var statusTime: Int64
    var delayFrames: Int64
    var framePeriod: Double
    var streamError: Double
}

struct Trace {
    var name: String
    var periods: [Period]
    var impulses: [Double]
    var latency: Double
    var jackPeriod: Int64
    /// Frames the loop writes per period.
    var alsaPeriod: Int64

    init?(path: String) {
        guard let table = try? String(contentsOfFile: path, encoding: .utf8),
              let heard = try? String(contentsOfFile: path + ".impulses", encoding: .utf8) else { return nil }
        name = (path as NSString).lastPathComponent
        periods = table.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 8, let written = Int64(fields[0]), let first = Double(fields[2]), let status = Int64(fields[3]),
                  let delay = Int64(fields[4]), let period = Double(fields[5]) else { return nil }
            return Period(written: written, firstHeardAt: first, statusTime: status, delayFrames: delay, framePeriod: period,
                          streamError: Double(fields[6]).flatMap { $0.isNaN ? nil : $0 } ?? 0)
        }
        let lines = heard.split(separator: "\n")
        let header = lines.first { $0.hasPrefix("#") }?.split(separator: " ") ?? []
        func value(_ key: String) -> String? { header.firstIndex(of: Substring(key)).flatMap { header.indices.contains($0 + 1) ? String(header[$0 + 1]) : nil } }
        guard let latency = value("latency_ns").flatMap(Double.init), let jackPeriod = value("jack_period").flatMap(Int64.init),
              periods.count > 2 else { return nil }
        self.latency = latency
        self.jackPeriod = jackPeriod
        alsaPeriod = periods[1].written - periods[0].written
        impulses = lines.filter { !$0.hasPrefix("#") }.compactMap { Double($0) }
    }

    /// The time each period's first frame is heard by a timeline made by `make`, fed the readings,
    /// and how often its phase moved at once (slips and steps).
    func replay(_ make: () -> DeviceTimeline) -> (times: [Double], resets: Int) {
        var timeline = make()
        // As the loop learns it by polling at start: the pointer moves a JACK period at a time.
        timeline.notePointer(0)
        timeline.notePointer(jackPeriod)
        timeline.anchor(frame: 0, at: Nanoseconds(Int64(periods[0].firstHeardAt)))
        let times = periods.map { period in
            let time = Double(timeline.time(ofFrame: period.written).rawValue)
            if period.statusTime != 0 {
                // As the loop does: the frame heard is a pointer step behind the device pointer.
                let pointer = period.written + alsaPeriod - period.delayFrames
                timeline.observe(heardFrame: pointer - jackPeriod, at: Nanoseconds(period.statusTime))
            }
            return time
        }
        return (times, timeline.resets)
    }

    /// Each impulse's error (after the first 2 s) had the loop used `times` instead of `base`.
    func errors(times: [Double], base: [Double], withoutStreamError: Bool) -> [Double] {
        let firsts = periods.map(\.firstHeardAt)
        guard let start = impulses.first else { return [] }
        return impulses.filter { $0 > start + 2e9 }.compactMap { heard in
            let due = ((heard - latency) / 100e6).rounded() * 100e6 + latency
            guard let index = firsts.lastIndex(where: { $0 <= due }) else { return nil }
            let stream = withoutStreamError ? periods[index].streamError * 1e9 / 48_000 : 0
            return heard - due + stream - (times[index] - base[index])
        }
    }
}

/// The p99 of |error − median|, µs.
func jitter(_ errors: [Double]) -> Double {
    guard !errors.isEmpty else { return .nan }
    let median = errors.sorted()[errors.count / 2]
    let deviations = errors.map { abs($0 - median) }.sorted()
    return deviations[min(deviations.count - 1, Int(Double(deviations.count) * 0.99))] / 1000
}

let arguments = CommandLine.arguments.dropFirst()
func list(_ flag: String) -> [Double]? {
    arguments.firstIndex(of: flag).flatMap { arguments.index(after: $0) < arguments.endIndex ? arguments[arguments.index(after: $0)] : nil }?
        .split(separator: ",").compactMap { Double($0) }
}
guard let directory = arguments.first(where: { !$0.hasPrefix("--") && !$0.first!.isNumber }) else {
    print("usage: TimelineReplay DIR [--phase-bandwidth A,B,...] [--rate-bandwidth A,B,...] [--group-ms A,B,...] [--step-us A,B,...] [--without-stream-error]")
    exit(2)
}
let withoutStreamError = arguments.contains("--without-stream-error")
let defaults = DeviceTimeline(nominalRate: .standard)
let phases = list("--phase-bandwidth") ?? [0.05, 0.1, 0.15, 0.2, 0.3, 0.5]
let rates = list("--rate-bandwidth") ?? [defaults.rateBandwidth]
let groups = list("--group-ms") ?? [Double(defaults.readingGroup.rawValue) / 1e6]
let steps = list("--step-us") ?? [Double(defaults.stepThreshold.rawValue) / 1e3]
let variants = phases.flatMap { phase in rates.flatMap { rate in groups.flatMap { group in steps.map { (phase: phase, rate: rate, groupMilliseconds: group, stepMicroseconds: $0) } } } }
let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".csv") }.sorted()
let traces = files.compactMap { Trace(path: directory + "/" + $0) }
guard !traces.isEmpty else {
    print("no traces with .impulses beside them in \(directory)")
    exit(1)
}

print("p99 |error − median| in µs per trace" + (withoutStreamError ? ", the stream's own position error taken out" : "")
      + "; columns: phase Hz/rate Hz/group ms/step µs, (the phase's moves at once)")
print("trace".padding(toLength: 34, withPad: " ", startingAt: 0) + "latency  jack  recorded" + variants.map { String(format: "  %.2f/%.2f/%.0f/%.0f", $0.phase, $0.rate, $0.groupMilliseconds, $0.stepMicroseconds) }.joined())
for trace in traces {
    let base = trace.periods.map(\.firstHeardAt)
    var line = trace.name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%5.0fms  %4lld  %8.1f", trace.latency / 1e6, trace.jackPeriod,
                                                                                         jitter(trace.errors(times: base, base: base, withoutStreamError: withoutStreamError)))
    for variant in variants {
        let (times, resets) = trace.replay {
            var timeline = DeviceTimeline(nominalRate: .standard)
            timeline.lockedPhaseBandwidth = variant.phase
            timeline.rateBandwidth = variant.rate
            timeline.readingGroup = Nanoseconds(Int64(variant.groupMilliseconds * 1e6))
            timeline.stepThreshold = Nanoseconds(Int64(variant.stepMicroseconds * 1e3))
            return timeline
        }
        line += String(format: "  %9.1f (%2d)", jitter(trace.errors(times: times, base: base, withoutStreamError: withoutStreamError)), resets)
    }
    print(line)
}
