import Core
import Foundation
import MultiHostBed

// Boxes in step (`make bench`, BENCHMARKS.md "Boxes in step"): two boxes of the multi-host bed
// (each its own network and time namespace, JACK dummy server, jamplay --latency 60ms and probe)
// play one live UDP sender's impulses, 60 s a scenario (BENCH_MULTIHOST_SECONDS), for symmetric,
// asymmetric and jittery links, multicast and a sender that answers no probes. For each: the
// inter-box skew |A − B| of the same impulses, each box's presentation error against the
// sender's timeline (played − (stamp + latency)), and each box's clock mapping as its /status
// tells it (its error bound) beside its actual error (the bed knows the clocks' true offsets).
// Needs root. BENCH_MULTIHOST_ONLY=jitter runs the scenarios whose names contain it;
// BENCH_MULTIHOST_BASELINE=PATH also runs each scenario with that jamplay (an earlier build), the
// row after.

if let missing = MultiHostBed.unavailable {
    print("MultiHostBenchmarks: \(missing)")
    exit(1)
}
let seconds = Int(ProcessInfo.processInfo.environment["BENCH_MULTIHOST_SECONDS"] ?? "") ?? 60
let oneEachWay = DelayRelay.Path(forward: .milliseconds(1), back: .milliseconds(1))
let scenarios: [(String, TwoBoxScenario)] = [
    ("symmetric, 1 ms each way", TwoBoxScenario(links: .unicast(boxA: oneEachWay, boxB: oneEachWay), seconds: seconds)),
    ("asymmetric: A 2 ms there, 0.2 ms back; B 1 ms each way",
     TwoBoxScenario(links: .unicast(boxA: DelayRelay.Path(forward: .milliseconds(2), back: .microseconds(200)), boxB: oneEachWay), seconds: seconds)),
    ("jitter: 1 ms ± 1 ms each way, both",
     TwoBoxScenario(links: .unicast(boxA: DelayRelay.Path(forward: .milliseconds(1), back: .milliseconds(1), jitter: .milliseconds(1)),
                                    boxB: DelayRelay.Path(forward: .milliseconds(1), back: .milliseconds(1), jitter: .milliseconds(1))), seconds: seconds)),
    ("multicast, 1 ms each way", TwoBoxScenario(links: .multicast(oneEachWay), seconds: seconds)),
    ("no probes answered (one-way), 1 ms each way", TwoBoxScenario(links: .unicast(boxA: oneEachWay, boxB: oneEachWay), answersProbes: false, seconds: seconds)),
]

func microseconds(_ nanoseconds: Double?) -> String { nanoseconds.map { String(format: "%.0f", $0 / 1000) } ?? "–" }

print("Boxes in step: \(seconds) s a scenario, --latency 60ms, jamsend --clock cpu --capture --frame 256 (GPU clock +3 s, +200 ppm)")
print("")
print("| scenario | impulses | median \\|A − B\\| µs | p99 \\|A − B\\| µs | median A − B µs | A: median / p99 error µs | B: median / p99 error µs | A mapping: error / bound µs | B mapping: error / bound µs | runs |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
let only = ProcessInfo.processInfo.environment["BENCH_MULTIHOST_ONLY"]
let baseline = ProcessInfo.processInfo.environment["BENCH_MULTIHOST_BASELINE"]
let runs = scenarios.filter { name, _ in only.map { name.contains($0) } ?? true }.flatMap { name, scenario in
    [(name, scenario)] + (baseline.map { path in
        var before = scenario
        before.player = path
        return [("\(name) — baseline", before)]
    } ?? [])
}
for (name, scenario) in runs {
    do {
        let (skew, played, runs) = try await scenario.run()
        let errors = skew.presentationErrors.map { errors in
            "\(microseconds(InterBoxSkew.quantile(errors, 0.5))) / \(microseconds(InterBoxSkew.quantile(errors.map(abs), 0.99)))"
        }
        let offsets = [1_000.0, 5_000.0]
        let mappings = zip(played, offsets).map { box, offset in
            let error = box.hostClock("offset_nanoseconds").map { $0 - offset * 1e9 }
            return "\(microseconds(error)) / \(microseconds(box.hostClock("error_bound_nanoseconds")))"
        }
        print("| \(name) | \(skew.skews.count) | \(microseconds(skew.medianSkew)) | \(microseconds(skew.p99Skew)) | \(microseconds(skew.medianSignedSkew)) | "
              + "\(errors[0]) | \(errors[1]) | \(mappings[0]) | \(mappings[1]) | \(runs) |")
    } catch {
        print("| \(name) | failed: \(error) |")
    }
}
