import Core
import Foundation
import RigSupport
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Several playback boxes as separate hosts on this machine, for proving that they play in step.
///
/// This host is the sender's. Each box is a network namespace (`ip netns`) whose `eth0` is one
/// end of a veth pair; the other ends are joined by a Linux bridge here (10.77.0.1/24; box `i` is
/// 10.77.0.`i+2`), so one multicast datagram reaches every box. In its namespace each box also
/// has a time namespace of its own (`unshare --time`: its `CLOCK_MONOTONIC` runs ``Box/clockOffset``
/// ahead of this host's), its own JACK dummy server, its own `jamplay` on the ALSA `jack` PCM and
/// its own probe (`RigRecorder`), which records what the box played on the box's clock; the bed
/// converts those times back through the offset it set. The boxes share this machine's oscillator:
/// their clocks differ by an offset, not in rate (a sender's clock knobs make the rates differ).
/// Needs root, iproute2, util-linux's `unshare` and jackd.
public final class MultiHostBed {
    /// One box.
    public struct Box: Sendable {
        /// Its name: the namespace is `jp-NAME` and its JACK server `jp-NAME`.
        public var name: String
        /// How far its `CLOCK_MONOTONIC` runs ahead of this host's.
        public var clockOffset: Nanoseconds

        /// Makes a box.
        public init(name: String, clockOffset: Nanoseconds) {
            self.name = name
            self.clockOffset = clockOffset
        }
    }

    /// What one box did in a scenario.
    public struct Played: Sendable {
        /// The impulses its probe heard, their times on this host's clock.
        public var heard: HeardImpulses
        /// Its `/status` near the end of the stream (JSON).
        public var status: String
        /// Its log.
        public var log: String

        /// A number of its first session's `host_clock` in ``status`` (`offset_nanoseconds`, `error_bound_nanoseconds`, …).
        public func hostClock(_ field: String) -> Double? { (hostClock?[field] as? NSNumber)?.doubleValue }

        /// Its first session's `host_clock` mode (`two-way`, `one-way`, …).
        public var hostClockMode: String? { hostClock?["mode"] as? String }

        private var hostClock: [String: Any]? {
            let document = try? JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any]
            return ((document?["sessions"] as? [[String: Any]])?.first)?["host_clock"] as? [String: Any]
        }
    }

    /// Why the bed cannot be made here, or nil.
    public static let unavailable: String? = {
        guard getuid() == 0 else { return "network and time namespaces need root (CI runs as root)" }
        for tool in ["/usr/sbin/ip", "/usr/bin/unshare", "/usr/bin/jackd", "/usr/bin/jack_lsp"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing (Debian: iproute2, util-linux, jackd2; make test installs them)"
        }
        if let probe = try? shell("unshare --time --monotonic 1 --fork true"), probe.status != 0 {
            return "unshare --time fails here (a kernel without time namespaces?): exit \(probe.status) \(probe.output)"
        }
        return nil
    }()

    /// This host's address on the boxes' network.
    public static let bridgeAddress = "10.77.0.1"
    /// The multicast group the multicast scenario sends to.
    public static let group = "239.77.0.1"
    /// The port every box listens on, and its HTTP port.
    public static let port: UInt16 = 9000, httpPort = 8080

    /// The boxes.
    public let boxes: [Box]
    private let directory: String

    /// Makes the network (after removing one a failed run left).
    public init(boxes: [Box]) throws {
        self.boxes = boxes
        directory = NSTemporaryDirectory() + "jamplay-multihost-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        Self.removeNetwork(boxes)
        var script = """
            set -e
            ip link add jpbr0 type bridge mcast_snooping 0
            ip addr add \(Self.bridgeAddress)/24 dev jpbr0
            ip link set jpbr0 up

            """
        for (index, box) in boxes.enumerated() {
            script += """
                ip netns add jp-\(box.name)
                ip link add jpv-\(box.name) type veth peer name eth0 netns jp-\(box.name)
                ip link set jpv-\(box.name) master jpbr0 up
                ip -n jp-\(box.name) addr add \(address(ofBox: index))/24 dev eth0
                ip -n jp-\(box.name) link set eth0 up
                ip -n jp-\(box.name) link set lo up
                ip -n jp-\(box.name) route add 224.0.0.0/4 dev eth0

                """
        }
        let made = try Self.shell(script)
        guard made.status == 0 else { throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "\(script): \(made.output)"]) }
    }

    deinit { tearDown() }

    /// Removes the network and the boxes' files (again when released).
    public func tearDown() {
        Self.removeNetwork(boxes)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Box `index`'s address.
    public func address(ofBox index: Int) -> String { "10.77.0.\(index + 2)" }

    /// Plays one scenario: every box starts its JACK server, `jamplay` (with `arguments` and its
    /// own `boxArguments`, after `--listen` on the box's port or on the multicast group) and its probe; once all are
    /// recording and past the player's warm-up, `startSender` starts the sender; near the end of
    /// `seconds` of it each box's `/status` is read; then the boxes stop and hand back what they heard.
    /// `player` is the `jamplay` to run (nil: the one built beside this program).
    public func play(arguments: [String], boxArguments: [[String]] = [], multicast: Bool = false, seconds: Double, player: String? = nil,
                     startSender: () throws -> Process) async throws -> [Played] {
        let jamplay = try player ?? builtExecutable(named: "jamplay"), recorder = try builtExecutable(named: "RigRecorder")
        let warmUp = 2.5, tail = 3.0
        var running: [(process: Process, output: OutputFile)] = []
        defer {
            for box in running where box.process.isRunning { box.process.terminate() }
            Self.killEverything(in: boxes)
        }
        for (index, box) in boxes.enumerated() {
            let listen = multicast ? ["--listen", "\(Self.group):\(Self.port)", "--multicast-interface", "eth0"] : ["--listen", ":\(Self.port)"]
            let player = [jamplay] + listen + ["--http", "\(address(ofBox: index)):\(Self.httpPort)", "--device", "jack"] + arguments
                + (index < boxArguments.count ? boxArguments[index] : [])
            let script = """
                export JACK_DEFAULT_SERVER=jp-\(box.name) JACK_NO_AUDIO_RESERVATION=1 JACK_NO_START_SERVER=1
                jackd -n jp-\(box.name) -d dummy -r 48000 -p 256 > \(directory)/\(box.name)-jackd.log 2>&1 &
                jack=$!
                for attempt in $(seq 100); do jack_lsp > /dev/null 2>&1 && break; sleep 0.1; done
                \(player.map(Self.quoted).joined(separator: " ")) > \(directory)/\(box.name)-jamplay.log 2>&1 &
                player=$!
                \(Self.quoted(recorder)) jp-\(box.name)-probe 'out_00[01]$' \(warmUp + seconds + tail) \(directory)/\(box.name).json
                status=$?
                kill -TERM $player; wait $player
                kill $jack; wait $jack
                exit $status
                """
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            let offset = String(box.clockOffset.rawValue / 1_000_000_000)
            process.arguments = ["netns", "exec", "jp-\(box.name)", "unshare", "--time", "--monotonic", offset, "--boottime", offset,
                                 "--fork", "--kill-child", "/bin/bash", "-c", script]
            let output = try OutputFile("box-\(box.name)")
            process.standardOutput = output.handle
            process.standardError = output.handle
            try process.run()
            running.append((process, output))
        }
        let recording = await eventually(within: 20) { running.allSatisfy { $0.output.text.contains("recording") || !$0.process.isRunning } }
        guard recording, running.allSatisfy({ $0.process.isRunning }) else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "a box did not start: \(running.map { $0.output.text })\n\(logs())"])
        }
        try await Task.sleep(nanoseconds: UInt64(warmUp * 1e9))
        let sender = try startSender()
        defer { if sender.isRunning { sender.terminate() } }
        try await Task.sleep(nanoseconds: UInt64(max(0, seconds - 1) * 1e9))
        let statuses = boxes.indices.map { LoopbackSockets.httpRequest("/status", port: Int(Self.httpPort), host: address(ofBox: $0))?.body ?? "" }
        let finished = await eventually(within: seconds + warmUp + tail + 20) { running.allSatisfy { !$0.process.isRunning } }
        guard finished else { throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "a box did not finish: \(logs())"]) }
        return try boxes.enumerated().map { index, box in
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(box.name).json") else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "box \(box.name) recorded nothing: \(running[index].output.text)\n\(logs())"])
            }
            var heard = try JSONDecoder().decode(HeardImpulses.self, from: data)
            for impulse in heard.impulses.indices { heard.impulses[impulse].time -= Double(box.clockOffset.rawValue) }
            let log = (try? String(contentsOfFile: "\(directory)/\(box.name)-jamplay.log", encoding: .utf8)) ?? ""
            return Played(heard: heard, status: statuses[index], log: log)
        }
    }

    /// Every box's player and JACK logs.
    public func logs() -> String {
        boxes.map { box in
            ["jamplay", "jackd"].map { "[\(box.name) \($0)]\n" + ((try? String(contentsOfFile: "\(directory)/\(box.name)-\($0).log", encoding: .utf8)) ?? "") }
                .joined(separator: "\n")
        }.joined(separator: "\n")
    }

    // MARK: - Shell

    /// Runs `script` with bash: its exit status and what it printed.
    @discardableResult
    static func shell(_ script: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        let output = try OutputFile("bed-shell")
        process.standardOutput = output.handle
        process.standardError = output.handle
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, output.text)
    }

    private static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    private static func killEverything(in boxes: [Box]) {
        _ = try? shell(boxes.map { "ip netns pids jp-\($0.name) 2>/dev/null | xargs -r kill -9" }.joined(separator: "\n"))
    }

    /// Removes the boxes' links first (a veth pair goes at once with either end; with its namespace
    /// only later, when the kernel gets to it), then their namespaces and the bridge.
    private static func removeNetwork(_ boxes: [Box]) {
        killEverything(in: boxes)
        let commands = boxes.map { "ip link del jpv-\($0.name) 2>/dev/null; ip netns del jp-\($0.name) 2>/dev/null" } + ["ip link del jpbr0 2>/dev/null", "true"]
        _ = try? shell(commands.joined(separator: "\n"))
    }
}
