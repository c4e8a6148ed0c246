import Foundation
import RigSupport
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The operations port as a monitoring system uses it: the `jamplay` binary on the `null` device
/// with a sender (`jamsend --clock cpu`), `/metrics` scraped and parsed, `/status` decoded.
@Suite struct OperationsEndpointTests {
    struct Reply {
        var status: Int
        var head: String
        var body: String
    }

    /// One HTTP/1.1 request over a plain socket (the server closes after `Connection: close`).
    static func request(_ path: String, method: String = "GET", port: Int) -> Reply {
        guard let reply = LoopbackSockets.httpRequest(path, method: method, port: port) else { preconditionFailure("connect failed: \(errno)") }
        return Reply(status: reply.status, head: reply.head, body: reply.body)
    }

    /// Prometheus text → value by series (`name{labels}`); every line must parse.
    static func series(_ text: String) -> [String: Double] {
        var series: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            // Label values may hold spaces (`source="tcp 127.0.0.1:5000"`): the value follows the last one.
            let space = line.lastIndex(of: " ")
            let value = space.flatMap { Double(line[line.index(after: $0)...]) }
            #expect(value != nil && line.first?.isLetter == true, "not a Prometheus sample line: \(line)")
            if let space, let value { series[String(line[..<space])] = value }
        }
        return series
    }

    static func httpPort(of player: JamplayProcess) throws -> Int {
        let match = try #require(player.log.firstMatch(of: /http:\/\/127\.0\.0\.1:(\d+)\/metrics/))
        return try #require(Int(match.1))
    }

    static func startPlayer() async throws -> (JamplayProcess, port: Int) {
        // A fixed latency: the margins it leaves are exact (auto's are tested on their own).
        let player = try await JamplayProcess(["--device", "null", "--rt-priority", "0", "--latency", "20ms"])
        return (player, try httpPort(of: player))
    }

    @Test func metricsAndStatusDescribeTheSessionAndItsCounters() async throws {
        let (player, port) = try await Self.startPlayer()
        // The sender runs until the test stops it: a test task the busy run leaves unscheduled for
        // seconds must still find the stream playing (a CI run read the status after a 3 s sender
        // had finished and found nothing buffered).
        let sender = try JamsendRunner.start(["--clock", "cpu", "--to", "127.0.0.1:\(player.port)", "--signal", "sine", "--duration", "120s", "--session", "kitchen"])
        defer { sender.terminate() }
        #expect(await eventually(within: 10) {
            let series = Self.series(Self.request("/metrics", port: port).body)
            return series["jamplay_playback_streams_playing"] == 1 && (series["jamplay_ingest_tcp_messages_total"] ?? 0) > 10
        })

        let metrics = Self.request("/metrics", port: port)
        #expect(metrics.status == 200 && metrics.head.contains("text/plain; version=0.0.4"))
        #expect(metrics.body.contains("# TYPE jamplay_ingest_tcp_messages_total counter"))
        let series = Self.series(metrics.body)
        #expect((series["jamplay_ingest_tcp_messages_total"] ?? 0) > 10)
        #expect((series["jamplay_playback_periods_total"] ?? 0) > 10)
        #expect(series["jamplay_device_open"] == 1)
        #expect(series["jamplay_ingest_rejected_lines_total{class=\"json-error\"}"] == 0)
        let session = series.keys.filter { $0.hasPrefix("jamplay_session_clock_offset_seconds{") && $0.contains("session=\"kitchen\"") }
        #expect(session.count == 1, "\(series.keys.sorted())")

        let status = Self.request("/status", port: port)
        #expect(status.status == 200 && status.head.contains("application/json"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(status.body.utf8)) as? [String: Any])
        let device = try #require(json["device"] as? [String: Any])
        #expect(device["name"] as? String == "null" && device["paces_writes"] as? Bool == false && device["open"] as? Bool == true)
        // The device path: the fill (1.5 ms, and 0.5 ms more for each underrun: the null device
        // underruns as a card would when this loaded machine stalls the player for longer than
        // its buffer), the time to mix, and a period (5.3 ms).
        let fill = try #require(device["fill_nanoseconds"] as? Int)
        let underruns = try #require((json["counters"] as? [String: Any])?["playback_underruns_total"] as? Int)
        #expect(fill >= 1_500_000 && fill <= 1_500_000 + 500_000 * underruns, "fill \(fill) ns after \(underruns) underruns")
        let path = try #require(device["device_path_nanoseconds"] as? Int)
        #expect(path > fill + 5_333_333 && path < 200_000_000, "device path \(path) ns")
        #expect(json["latency_nanoseconds"] as? Int == 20_000_000)
        let sessions = try #require(json["sessions"] as? [[String: Any]])
        #expect(sessions.count == 1)
        let first = try #require(sessions.first)
        #expect(first["session_id"] as? String == "kitchen")
        #expect((first["host_clock"] as? [String: Any])?["mode"] as? String == "same-host")
        // On this host the sender's clock is ours: no error to bound.
        #expect((first["host_clock"] as? [String: Any])?["error_bound_nanoseconds"] as? Int == 0)
        #expect(["offset-only", "drift"].contains((first["calibration"] as? [String: Any])?["mode"] as? String ?? ""))
        let streams = try #require(first["streams"] as? [[String: Any]])
        #expect(streams.count == 1 && streams.first?["sample_rate"] as? Int == 48_000)
        // Concealment, on by default, counted per stream and in all (frames come late now and then
        // on these loaded cores, even over TCP, and are concealed).
        let concealed = try #require(streams.first?["concealed_frames"] as? Int)
        let longest = try #require(streams.first?["longest_concealed_gap_seconds"] as? Double)
        #expect(concealed >= 0 && longest >= 0)
        #expect((series["jamplay_playback_concealed_frames_total"] ?? -1) >= 0)
        #expect(series.keys.contains { $0.hasPrefix("jamplay_stream_concealed_frames{") })
        // jamsend sends 5 ms ahead and the latency is 20 ms: frames arrive 25 ms before they are
        // heard, and the reader is the device path (under 10 ms) ahead of what is heard, so
        // between 0 and ~30 ms wait in the ring as 10 ms frames come and go (a CI run read 3.6 ms);
        // parallel tests can stall either side for a few hundred ms. In samples it would be hundreds.
        let buffered = try #require(streams.first?["buffered_seconds"] as? Double)
        #expect(buffered >= 0 && buffered < 1, "buffered \(buffered) s")
        // What latency its frames need, and the margin the 20 ms leave them.
        let needed = try #require(streams.first?["latency_needed_nanoseconds"] as? Int)
        let margin = try #require(streams.first?["arrival_margin_p99_nanoseconds"] as? Int)
        #expect(needed < 200_000_000 && margin == 20_000_000 - needed, "needed \(needed) ns, margin \(margin) ns")
        #expect(metrics.body.contains("jamplay_stream_arrival_margin_seconds{") && metrics.body.contains("quantile=\"0.99\""))
        #expect(((json["counters"] as? [String: Any])?["playback_streams_playing"] as? Int) == 1)

        // Once the session has ended (5 s without a message), its series are gone.
        sender.terminate()
        #expect(await eventually(within: 12) { !Self.request("/metrics", port: port).body.contains("session=\"kitchen\"") })
        #expect(player.terminate().status == 0)
    }

    @Test func otherPathsAndMethodsAreRefused() async throws {
        let (player, port) = try await Self.startPlayer()
        #expect(Self.request("/", port: port).status == 404)
        #expect(Self.request("/status", method: "POST", port: port).status == 405)
        #expect(Self.request("/status", method: "HEAD", port: port).status == 200)
        #expect(player.terminate().status == 0)
    }

    @Test func theHTTPPortHoldsAFewConnectionsAndClosesASlowRequest() async throws {
        let (player, port) = try await Self.startPlayer()
        // A request dribbled a byte a second is closed within the request timeout.
        let slow = LoopbackSockets.connectTCP(port: port)
        let started = Date()
        var closed = false
        for byte in "GET /status HTTP/1.1\r\nHost: x\r\n".utf8 {
            LoopbackSockets.sendAll(slow, [byte])
            if LoopbackSockets.isClosedByPeer(slow, timeout: 1) { closed = true; break }
        }
        #expect(closed && Date().timeIntervalSince(started) < 14, "closed: \(closed) after \(Date().timeIntervalSince(started)) s")
        close(slow)
        // (The server frees the closed connection's place on its event loop: on a loaded machine
        // a moment after the client sees it closed.)
        try await Task.sleep(nanoseconds: 1_000_000_000)
        // Sixteen idle connections are held; the seventeenth is closed at once, and one frees a place.
        let held = (0..<16).map { _ in LoopbackSockets.connectTCP(port: port) }
        #expect(!LoopbackSockets.isClosedByPeer(held[15], timeout: 0.3))
        let extra = LoopbackSockets.connectTCP(port: port)
        #expect(LoopbackSockets.isClosedByPeer(extra, timeout: 2))
        close(extra)
        close(held[0])
        #expect(await eventually(within: 5) { Self.request("/status", port: port).status == 200 })
        held.dropFirst().forEach { close($0) }
        #expect(player.terminate().status == 0)
    }

    @Test func portsInUseAreStartUpErrorsThatSayWhatToDo() async throws {
        let (player, port) = try await Self.startPlayer()
        let http = try JamplayRun.run(["--listen", "127.0.0.1:0", "--device", "null", "--rt-priority", "0", "--http", "127.0.0.1:\(port)"])
        #expect(http.status == 1)
        #expect(http.standardError.contains("cannot serve HTTP on 127.0.0.1:\(port)") && http.standardError.contains("--http"), "\(http.standardError)")
        let listen = try JamplayRun.run(["--listen", "127.0.0.1:\(player.port)", "--device", "null", "--rt-priority", "0", "--http", "off"])
        #expect(listen.status == 1)
        #expect(listen.standardError.contains("cannot listen on 127.0.0.1:\(player.port)") && listen.standardError.contains("--listen"), "\(listen.standardError)")
        #expect(!listen.standardError.contains("metrics and status"))
        #expect(player.terminate().status == 0)
    }

    @Test func sendersOutsideAllowAreDroppedToldOnceAndCounted() async throws {
        let player = try await JamplayProcess(["--device", "null", "--rt-priority", "0", "--allow", "192.168.0.0/16,fd00::/8"])
        let port = try Self.httpPort(of: player)
        for _ in 0..<3 { LoggingTests.sendLines("{\"type\":\"jdat\"}", count: 1, to: player.port) }
        #expect(await eventually(within: 5) { Self.series(Self.request("/metrics", port: port).body)["jamplay_ingest_disallowed_total"] == 3 })
        #expect(player.terminate().status == 0)
        #expect(player.log.components(separatedBy: "127.0.0.1 is not in --allow").count - 1 == 1, "\(player.log)")
        #expect(player.finalCounters["rejected lines"] == 0)
        let bad = try JamplayRun.run(["--device", "null", "--allow", "192.168.0.0/33"])
        #expect(bad.status == 64 && bad.standardError.contains("--allow: \"192.168.0.0/33\" is not an address or CIDR range"), "\(bad.standardError)")
    }
}
