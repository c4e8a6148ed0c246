import Core
import Foundation
import RigSupport

/// One stream played by two boxes of a ``MultiHostBed`` (box A 1 000 s and box B 5 000 s ahead of
/// this host), the sender on this host behind a ``DelayRelay``: what the tests and the benchmark run.
public struct TwoBoxScenario: Sendable {
    /// How the sender reaches the boxes.
    public enum Links: Sendable {
        /// Unicast to each box, over its own path.
        case unicast(boxA: DelayRelay.Path, boxB: DelayRelay.Path)
        /// One datagram to a multicast group both joined, over one path.
        case multicast(DelayRelay.Path)
    }

    /// The latency every box plays at (the same fixed latency on every box).
    public static let latency = Nanoseconds.milliseconds(60)

    public var links: Links
    /// Whether the sender answers the boxes' probes (false: as one written before jamnet/1.1).
    public var answersProbes = true
    /// The sender's timing: `--capture` (a live sender) or `--lead=…`.
    public var timing = ["--capture"]
    /// Arguments for box A's and box B's players alone.
    public var boxArguments: [[String]] = []
    /// How long the sender sends.
    public var seconds = 12
    /// The `jamplay` the boxes run (nil: the one built beside this program).
    public var player: String?

    /// Makes a scenario.
    public init(links: Links, answersProbes: Bool = true, timing: [String] = ["--capture"], boxArguments: [[String]] = [], seconds: Int = 12) {
        self.links = links
        self.answersProbes = answersProbes
        self.timing = timing
        self.boxArguments = boxArguments
        self.seconds = seconds
    }

    /// What both boxes played, compared, and how many runs it took: a run whose JACK servers had
    /// an xrun is played again (three runs at most; the last one's disturbed impulses are left out).
    public func run() async throws -> (skew: InterBoxSkew, played: [MultiHostBed.Played], runs: Int) {
        let bed = try MultiHostBed(boxes: [.init(name: "a", clockOffset: .seconds(1_000)), .init(name: "b", clockOffset: .seconds(5_000))])
        defer { bed.tearDown() }
        let (delivery, multicast): (DelayRelay.Delivery, Bool)
        switch links {
        case .unicast(let boxA, let boxB):
            (delivery, multicast) = (.unicast([(bed.address(ofBox: 0), MultiHostBed.port, boxA), (bed.address(ofBox: 1), MultiHostBed.port, boxB)]), false)
        case .multicast(let path):
            (delivery, multicast) = (.multicast(group: MultiHostBed.group, port: MultiHostBed.port, path: path), true)
        }
        for run in 1...3 {
            let relay = try DelayRelay(bridgeAddress: MultiHostBed.bridgeAddress, delivery: delivery, answersProbes: answersProbes)
            defer { relay.stop() }
            let played = try await bed.play(arguments: ["--latency", "\(Self.latency.rawValue / 1_000_000)ms"], boxArguments: boxArguments,
                                            multicast: multicast, seconds: Double(seconds), player: player) {
                try Self.startSender(to: relay.senderPort, seconds: seconds, timing: timing)
            }
            let xruns = played.map(\.heard.rigXruns)
            if xruns.contains(where: { $0 > 0 }) && run < 3 {
                print("multi-host run \(run): the boxes' JACK servers had \(xruns) xruns; again")
                continue
            }
            return (InterBoxSkew(played, latency: Self.latency), played, run)
        }
        preconditionFailure("the loop returns on its third run")
    }

    /// The sender: 256-sample stereo frames, an impulse every 100 ms of this host's clock, its GPU
    /// clock 3 s off and 200 ppm fast (so the boxes track drift), on the CPU clock path (no
    /// Vulkan load beside two JACK servers).
    static func startSender(to port: UInt16, seconds: Int, timing: [String]) throws -> Process {
        try JamsendRunner.start(["--clock", "cpu", "--frame", "256", "--udp", "--to", "127.0.0.1:\(port)", "--signal", "impulse:100ms",
                                 "--duration", "\(seconds)s", "--gpu-offset", "3s", "--gpu-skew-ppm", "200"] + timing)
    }
}
