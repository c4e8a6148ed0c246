import Core
import Foundation
import MultiHostBed
import RigSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Two boxes on different hosts play one stream in step (DESIGN §3's clock chain across hosts):
/// each box a network and time namespace of its own with its own JACK server, player and probe
/// (`MultiHostBed`, `TwoBoxScenario`), the sender on this host behind a relay that delays each path. In the
/// serialized end-to-end suite: these are timing tests on the shared cores. They need root; CI
/// runs as root, so there they always run.
extension EndToEndTests {
    /// 1 ms each way.
    static let oneEachWay = DelayRelay.Path(forward: .milliseconds(1), back: .milliseconds(1))

    /// Plays `scenario` once the bed can be made here (where it cannot, the test fails: it runs
    /// only as root, and then must run).
    func play(_ scenario: TwoBoxScenario) async throws -> (InterBoxSkew, [MultiHostBed.Played]) {
        try #require(MultiHostBed.unavailable == nil, "\(MultiHostBed.unavailable ?? "")")
        let (skew, played, _) = try await scenario.run()
        return (skew, played)
    }

    /// With 1 ms each way on both paths and a sender that answers probes, the boxes play each
    /// impulse within 0.5 ms of each other, and each within 0.5 ms of its stamp + latency (the
    /// bound cannot flake: a JACK period is 5.3 ms; the benchmark measures the microseconds).
    @Test(.needsRoot)
    func twoBoxesBehindSymmetricLinksPlayInStep() async throws {
        let (skew, played) = try await play(TwoBoxScenario(links: .unicast(boxA: Self.oneEachWay, boxB: Self.oneEachWay)))
        expectInStep(skew, played, within: 500_000)
        for box in played {
            // Each box's mapping says how far off it may be: half the 2 ms round trip (and more
            // for the relay's and the boxes' own scheduling).
            #expect(box.hostClockMode == "two-way" && (box.hostClock("error_bound_nanoseconds") ?? 0) >= 1_000_000, "\(box.status)")
        }
    }

    /// With 2 ms to box A and 0.2 ms back (box B: 1 ms each way), A's two-way mapping is off by
    /// half the asymmetry, as any two-way method's: A plays 0.9 ms after B, B on time.
    @Test(.needsRoot)
    func anAsymmetricLinkMovesItsBoxByHalfTheAsymmetry() async throws {
        let asymmetric = DelayRelay.Path(forward: .milliseconds(2), back: .microseconds(200))
        let (skew, played) = try await play(TwoBoxScenario(links: .unicast(boxA: asymmetric, boxB: Self.oneEachWay)))
        expectInStep(skew, played, within: 400_000, expectedSkew: 900_000, expectedError: [900_000, 0])
        // A's mapping cannot see the asymmetry, but its error bound covers it (half of 2.2 ms).
        let bound = played[0].hostClock("error_bound_nanoseconds") ?? 0
        #expect(bound >= 1_100_000 && bound >= (InterBoxSkew.quantile(skew.presentationErrors[0], 0.5) ?? .infinity), "\(played[0].status)")
    }

    /// With 1 ms ± 1 ms each way (uniform, every datagram) the boxes still play in step: their
    /// mappings are fitted through the exchanges of the shortest round trips. (Within 0.8 ms: an
    /// exchange may be off by half its round trip, up to 2 ms here, and debug builds on two busy
    /// cores time their echoes less well; 0.25 ms was the most seen, the benchmark's medians 0.1.)
    @Test(.needsRoot)
    func twoBoxesBehindJitteryLinksPlayInStep() async throws {
        let jittery = DelayRelay.Path(forward: .milliseconds(1), back: .milliseconds(1), jitter: .milliseconds(1))
        let (skew, played) = try await play(TwoBoxScenario(links: .unicast(boxA: jittery, boxB: jittery)))
        expectInStep(skew, played, within: 800_000)
    }

    /// One multicast datagram reaches both boxes (a group joined by both, over a bridge); each
    /// probes the sender on its own, and they play in step.
    @Test(.needsRoot)
    func twoBoxesOnOneMulticastGroupPlayInStep() async throws {
        let (skew, played) = try await play(TwoBoxScenario(links: .multicast(Self.oneEachWay)))
        expectInStep(skew, played, within: 500_000)
        for box in played { #expect(box.hostClockMode == "two-way", "\(box.status)") }
    }

    /// A box whose speaker is heard 2 ms sooner than the other's is set 2 ms later
    /// (`--output-offset 2ms`): it plays 2 ms after the other.
    @Test(.needsRoot)
    func aBoxWithAnOutputOffsetPlaysThatMuchLater() async throws {
        let (skew, played) = try await play(TwoBoxScenario(links: .unicast(boxA: Self.oneEachWay, boxB: Self.oneEachWay), boxArguments: [["--output-offset", "2ms"]]))
        expectInStep(skew, played, within: 500_000, expectedSkew: 2_000_000, expectedError: [2_000_000, 0])
    }

    /// A sender that answers no probes and sends its frames 20 ms ahead of their audio, or 10 ms
    /// after it: each box maps its clock one way, from what it stamps as it sends (calibration
    /// blocks), so it plays within the path's delay (1 ms) after stamp + latency, however far
    /// ahead or behind the frames come.
    @Test(.needsRoot, arguments: ["--lead=20ms", "--lead=-10ms"])
    func boxesOfASenderThatAnswersNoProbesPlayWithinThePathDelay(lead: String) async throws {
        let (skew, played) = try await play(TwoBoxScenario(links: .unicast(boxA: Self.oneEachWay, boxB: Self.oneEachWay), answersProbes: false, timing: [lead]))
        expectInStep(skew, played, within: 500_000, expectedError: [1_000_000, 1_000_000])
        for box in played { #expect(box.hostClockMode == "one-way" && box.hostClock("error_bound_nanoseconds") == nil, "\(box.status)") }
    }

    /// Checks that enough impulses were compared and the median |A − B| and each box's median
    /// presentation error are within `bound` ns.
    func expectInStep(_ skew: InterBoxSkew, _ played: [MultiHostBed.Played], within bound: Double, expectedSkew: Double = 0,
                      expectedError: [Double] = [0, 0], sourceLocation: SourceLocation = #_sourceLocation) {
        let summary = "A − B median \(skew.medianSignedSkew.map { Int($0 / 1000) } ?? -1) µs over \(skew.skews.count) impulses; "
            + "presentation errors \(skew.presentationErrors.map { InterBoxSkew.quantile($0, 0.5).map { Int($0 / 1000) } ?? -1 }) µs"
        print("multi-host: \(summary)")
        #expect(skew.skews.count >= 40, "\(summary)\n\(played.map(\.log))", sourceLocation: sourceLocation)
        #expect(abs((skew.medianSignedSkew ?? .infinity) - expectedSkew) <= bound, "\(summary)", sourceLocation: sourceLocation)
        for (box, errors) in skew.presentationErrors.enumerated() {
            #expect(abs((InterBoxSkew.quantile(errors, 0.5) ?? .infinity) - expectedError[box]) <= bound, "box \(box): \(summary)", sourceLocation: sourceLocation)
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// Network and time namespaces need root; CI runs as root.
    static var needsRoot: Self { .enabled(if: getuid() == 0, "network and time namespaces need root (CI runs as root)") }
}
