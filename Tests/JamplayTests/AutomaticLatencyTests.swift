import Foundation
import RigSupport
import TestSupport
import Testing

/// `--latency auto` on the `null` device (self-paced) with a live sender over UDP: the latency
/// comes down to what the frames need within seconds, and rises when the network's jitter does.
@Suite struct AutomaticLatencyTests {
    /// The status's latency target, what the stream needs, and its late and silent frame counts.
    static func reading(port: Int) throws -> (target: Int, needed: Int, late: Int, silent: Int) {
        let body = OperationsEndpointTests.request("/status", port: port).body
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let counters = try #require(json["counters"] as? [String: Int])
        let stream = try #require(((json["sessions"] as? [[String: Any]])?.first?["streams"] as? [[String: Any]])?.first)
        return (try #require(json["latency_target_nanoseconds"] as? Int), try #require(stream["latency_needed_nanoseconds"] as? Int),
                counters["ingest_late_frames_total"] ?? -1, counters["playback_silent_frames_total"] ?? -1)
    }

    @Test func theLatencyFollowsWhatALiveSendersFramesNeed() async throws {
        let player = try await JamplayProcess(["--device", "null", "--rt-priority", "0", "--latency", "auto"])
        let port = try OperationsEndpointTests.httpPort(of: player)
        // 256-sample frames (5.3 ms), each sent once captured; from 6 s on, each delayed by up to
        // 8 ms (more than a device period: some frames then miss the period they were in time for).
        let sender = try JamsendRunner.start(["--clock", "cpu", "--capture", "--frame", "256", "--udp", "--to", "127.0.0.1:\(player.port)",
                                              "--signal", "sine", "--duration", "14s", "--jitter", "8ms", "--jitter-after", "6s"])
        defer { if sender.isRunning { sender.terminate() } }
        try await Task.sleep(nanoseconds: 5_000_000_000)
        let chosen = try Self.reading(port: port)
        // Chosen within the stream's first seconds, from the 20 ms it started at: what the frames
        // need (had they come 1 ms later, or as a late one needed: on a loaded machine, more).
        #expect(chosen.target != 20_000_000 && chosen.target >= chosen.needed, "latency \(chosen.target) ns, the stream needs \(chosen.needed) ns")
        // The jitter pushes some frames past the period they were in time for: the latency rises
        // (by up to a period) and moves there within about a second.
        try await Task.sleep(nanoseconds: 4_000_000_000)
        let raised = try Self.reading(port: port)
        #expect(raised.target > chosen.target, "latency \(chosen.target) ns, then \(raised.target) ns")
        // Once it has, nothing more is late (a stray frame may still raise it: then a few at most).
        try await Task.sleep(nanoseconds: 3_000_000_000)
        let settled = try Self.reading(port: port)
        #expect(settled.late - raised.late <= 2 && settled.silent - raised.silent <= 2 * 256, "\(raised) then \(settled)")
        #expect(player.terminate().status == 0)
    }
}
