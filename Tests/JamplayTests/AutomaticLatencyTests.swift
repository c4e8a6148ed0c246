import Foundation
import RigSupport
import TestSupport
import Testing

/// `--latency auto` on the `null` device (self-paced) with a live sender over UDP: the latency
/// comes down to what the frames need within seconds, and rises when the network's jitter does.
@Suite struct AutomaticLatencyTests {
    /// The first stream of any session in the status (sessions come in no particular order).
    static func stream(in json: [String: Any]?) -> [String: Any]? {
        (json?["sessions"] as? [[String: Any]])?.lazy.compactMap { ($0["streams"] as? [[String: Any]])?.first }.first
    }

    /// Whether the status lists a stream with the latency it needs.
    static func hasStream(port: Int) -> Bool {
        let body = OperationsEndpointTests.request("/status", port: port).body
        let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return stream(in: json)?["latency_needed_nanoseconds"] is Int
    }

    /// The status's latency in force and target, what the stream needs, and its late and silent frame counts.
    static func reading(port: Int) throws -> (inForce: Int, target: Int, needed: Int, late: Int, silent: Int) {
        let body = OperationsEndpointTests.request("/status", port: port).body
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let counters = try #require(json["counters"] as? [String: Int])
        let stream = try #require(Self.stream(in: json), "no stream in the status: \(body.prefix(3_000))")
        return (try #require(json["latency_nanoseconds"] as? Int), try #require(json["latency_target_nanoseconds"] as? Int),
                try #require(stream["latency_needed_nanoseconds"] as? Int),
                counters["ingest_late_frames_total"] ?? -1, counters["playback_silent_frames_total"] ?? -1)
    }

    @Test func theLatencyFollowsWhatALiveSendersFramesNeed() async throws {
        let player = try await JamplayProcess(["--device", "null", "--rt-priority", "0", "--latency", "auto"])
        let port = try OperationsEndpointTests.httpPort(of: player)
        // 256-sample frames (5.3 ms), each sent once captured; from 6 s on, each delayed by up to 15 ms.
        // It sends longer than the test takes on a loaded machine, and is stopped at the end.
        let sender = try JamsendRunner.start(["--clock", "cpu", "--capture", "--frame", "256", "--udp", "--to", "127.0.0.1:\(player.port)",
                                              "--signal", "sine", "--duration", "60s", "--jitter", "15ms", "--jitter-after", "6s"])
        defer { if sender.isRunning { sender.terminate() } }
        // From its first frame (a loaded machine can take seconds to start a process), the
        // player has four seconds to choose.
        #expect(await eventually(within: 20) { Self.hasStream(port: port) }, "the stream never appeared: \(player.log.suffix(2_000))")
        try await Task.sleep(nanoseconds: 4_000_000_000)
        let chosen = try Self.reading(port: port)
        // Chosen within the stream's first seconds, from the 20 ms it started at, to cover what the
        // frames need.
        #expect(chosen.target != 20_000_000 && chosen.target >= chosen.needed, "\(chosen)")
        // The jitter adds up to 15 ms to what the frames need: the latency follows, and once the
        // latency in force has moved there (5 ms a second), hardly anything is late: only a frame
        // later than any before it, which raises it again.
        try await Task.sleep(nanoseconds: 4_000_000_000)
        var raised = try Self.reading(port: port)
        for _ in 0..<40 where raised.inForce != raised.target {
            try await Task.sleep(nanoseconds: 200_000_000)
            raised = try Self.reading(port: port)
        }
        #expect(raised.target >= raised.needed && raised.needed > 5_333_333 + 13_500_000, "\(raised)")
        try await Task.sleep(nanoseconds: 2_000_000_000)
        let settled = try Self.reading(port: port)
        #expect(settled.late - raised.late <= 3 && settled.silent - raised.silent <= 4 * 256, "\(raised) then \(settled)")
        #expect(player.terminate().status == 0)
    }
}
