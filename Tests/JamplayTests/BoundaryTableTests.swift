import Foundation
import RigSupport
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Every numeric field of every message type at its minimum, its maximum, just outside each, zero
/// and the ends of int64, sent to the running `jamplay` binary — in a session of its own and in a
/// session that has started validly — while a valid stream plays alongside. After every line the
/// player still answers `/status`; the valid stream never has a late frame or a gap.
@Suite struct BoundaryTableTests {
    /// One numeric field of one message: the line with `VALUE` where the field's value goes.
    struct Field: CustomStringConvertible {
        var name: String
        var template: String
        var values: [String]
        var description: String { name }
    }

    static let int64Ends = ["-9223372036854775808", "9223372036854775807", "0"]
    /// Timestamps: ±(2^62 − 1) and just beyond.
    static let timestamps = int64Ends + ["-4611686018427387903", "4611686018427387903", "-4611686018427387904", "4611686018427387904"]
    static let uint64s = int64Ends + ["18446744073709551615", "18446744073709551616", "-1"]
    static func integers(_ range: ClosedRange<Int>) -> [String] {
        int64Ends + ["\(range.lowerBound)", "\(range.upperBound)", "\(range.lowerBound - 1)", "\(range.upperBound + 1)"]
    }
    static func doubles(_ lowest: Double, _ highest: Double) -> [String] {
        int64Ends + ["\(lowest)", "\(highest)", "\(lowest.nextDown)", "\(highest.nextUp)", "1e308", "-1e308", "1e400", "5e-324"]
    }

    /// `SESSION` is where the session id goes.
    static let fields: [Field] = [
        Field(name: "jdat timestamp_gpu", template: #"{"type":"jdat","session_id":"SESSION","seq":7,"timestamp_gpu":VALUE,"payload":[0.5,0.5]}"#, values: timestamps),
        Field(name: "jdat timestamp_cpu", template: #"{"type":"jdat","session_id":"SESSION","stream_id":"cpu","timestamp_cpu":VALUE,"payload":[0.5]}"#, values: timestamps),
        Field(name: "jdat seq", template: #"{"type":"jdat","session_id":"SESSION","seq":VALUE,"timestamp_gpu":NOW,"payload":[0.5,0.5]}"#, values: uint64s),
        Field(name: "jdat sample_rate", template: #"{"type":"jdat","session_id":"SESSION","stream_id":"rate","sample_rate":VALUE,"timestamp_gpu":NOW,"payload":[0.5]}"#,
              values: integers(1...768_000)),
        Field(name: "jdat channels", template: #"{"type":"jdat","session_id":"SESSION","stream_id":"channels","channels":VALUE,"timestamp_gpu":NOW,"payload":[0.5]}"#,
              values: integers(1...64)),
        Field(name: "jdat payload sample", template: #"{"type":"jdat","session_id":"SESSION","stream_id":"samples","timestamp_gpu":NOW,"payload":[VALUE,0.5]}"#,
              values: doubles(-1, 1) + ["3.4028235e38", "3.4028236e38", "1e39", "-1e39", "1.4e-45"]),
        Field(name: "sync_calibration_block timestamp_cpu", template: #"{"type":"sync_calibration_block","session_id":"SESSION","timestamp_cpu":VALUE,"timestamp_gpu":NOW}"#, values: timestamps),
        Field(name: "sync_calibration_block timestamp_gpu", template: #"{"type":"sync_calibration_block","session_id":"SESSION","timestamp_cpu":NOW,"timestamp_gpu":VALUE}"#, values: timestamps),
        Field(name: "sync_calibration_block tick_period_ns",
              template: #"{"type":"sync_calibration_block","session_id":"SESSION","timestamp_cpu":NOW,"timestamp_gpu":1000000,"timestamp_unit":"ticks","tick_period_ns":VALUE}"#,
              values: doubles(0.01, 1_000_000)),
        Field(name: "sync_calibration_block timestamp_bits",
              template: #"{"type":"sync_calibration_block","session_id":"SESSION","timestamp_cpu":NOW,"timestamp_gpu":65535,"timestamp_bits":VALUE}"#, values: integers(16...64)),
        Field(name: "sync_calibration_block max_deviation (ns)",
              template: #"{"type":"sync_calibration_block","session_id":"SESSION","timestamp_cpu":NOW,"timestamp_gpu":NOW,"max_deviation":VALUE}"#, values: doubles(0, 1e9)),
        Field(name: "sync_calibration_block max_deviation (ms)",
              template: #"{"type":"sync_calibration_block","session_id":"SESSION","timestamp_cpu":NOWMS,"timestamp_gpu":NOWMS,"timestamp_unit":"ms","max_deviation":VALUE}"#,
              values: doubles(0, 1_000)),
        Field(name: "clock_probe probe_id", template: #"{"type":"clock_probe","session_id":"SESSION","probe_id":VALUE,"timestamp_probe_sent":NOW}"#, values: uint64s),
        Field(name: "clock_probe timestamp_probe_sent", template: #"{"type":"clock_probe","session_id":"SESSION","probe_id":1,"timestamp_probe_sent":VALUE}"#, values: timestamps),
        Field(name: "clock_echo probe_id",
              template: #"{"type":"clock_echo","session_id":"SESSION","probe_id":VALUE,"timestamp_probe_sent":NOW,"timestamp_probe_received":NOW,"timestamp_echo_sent":NOW}"#, values: uint64s),
        Field(name: "clock_echo timestamp_probe_sent",
              template: #"{"type":"clock_echo","session_id":"SESSION","probe_id":1,"timestamp_probe_sent":VALUE,"timestamp_probe_received":NOW,"timestamp_echo_sent":NOW}"#, values: timestamps),
        Field(name: "clock_echo timestamp_probe_received",
              template: #"{"type":"clock_echo","session_id":"SESSION","probe_id":1,"timestamp_probe_sent":NOW,"timestamp_probe_received":VALUE,"timestamp_echo_sent":4611686018427387903}"#, values: timestamps),
        Field(name: "clock_echo timestamp_echo_sent",
              template: #"{"type":"clock_echo","session_id":"SESSION","probe_id":1,"timestamp_probe_sent":NOW,"timestamp_probe_received":-4611686018427387903,"timestamp_echo_sent":VALUE}"#, values: timestamps),
    ]

    /// This host's `CLOCK_MONOTONIC`, in nanoseconds: what a valid sender on it stamps with.
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    static func line(_ field: Field, value: String, session: String) -> [UInt8] {
        let now = Self.now() + 50_000_000
        let text = field.template.replacingOccurrences(of: "VALUE", with: value).replacingOccurrences(of: "SESSION", with: session)
            .replacingOccurrences(of: "NOWMS", with: String(now / 1_000_000)).replacingOccurrences(of: "NOW", with: String(now))
        return Array(text.utf8) + [10]
    }

    /// The valid stream's figures in `/status`: frames stored, late, and gap frames.
    static func validStream(port: Int) -> (stored: Int, late: Int, gaps: Int)? {
        let reply = OperationsEndpointTests.request("/status", port: port)
        guard reply.status == 200, let json = try? JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any],
              let sessions = json["sessions"] as? [[String: Any]],
              let session = sessions.first(where: { $0["session_id"] as? String == "valid" }),
              let stream = (session["streams"] as? [[String: Any]])?.first,
              let stored = stream["frames_stored"] as? Int, let late = stream["frames_late"] as? Int, let gaps = stream["gap_frames"] as? Int
        else { return nil }
        return (stored, late, gaps)
    }

    @Test func everyFieldAtItsBoundsLeavesThePlayerAnsweringAndAValidStreamPlaying() async throws {
        // A latency far above the loopback's jitter: a gap here is the hostile lines' doing, not the machine's.
        // Sessions end 1 s after their last line: some boundary values are legal and heavy (a
        // 64-channel stream, a 768 kHz one), and in this debug build on two shared cores one of
        // them alone can take the playback thread longer than a period; for the default 5 s the
        // null device's self-paced loop fell behind by more than the valid stream's ring holds
        // (its frames then overflowed: a gap that is the build's speed, not the values').
        let player = try await JamplayProcess(["--device", "null", "--rt-priority", "0", "--latency", "150ms", "--session-timeout", "1s"])
        let port = try OperationsEndpointTests.httpPort(of: player)
        let senderLog = FileManager.default.temporaryDirectory.appendingPathComponent("boundary-table-jamsend-\(getpid()).log")
        // Sent well ahead: the player mixes each period as long before it is due as its recent
        // mixes took, and one stalled mix on a loaded machine (32 hostile streams attached, a debug
        // build) moves that by tens of milliseconds for a second or so; frames sent just ahead
        // would then be counted as gaps that are the machine's doing.
        let sender = try JamsendRunner.start(["--clock", "cpu", "--lead", "100ms", "--to", "127.0.0.1:\(player.port)", "--signal", "sine",
                                              "--duration", "600s", "--session", "valid"], log: senderLog)
        defer {
            sender.terminate()
            try? FileManager.default.removeItem(at: senderLog)
        }
        #expect(await eventually(within: 15) { (Self.validStream(port: port)?.stored ?? 0) > 50 })
        // Once it plays, its gap frames stop growing (those before its first sample are counted
        // once): wait for that, as long as a loaded machine takes to start playing it.
        var settled: (stored: Int, late: Int, gaps: Int)?
        #expect(await eventually(within: 30) {
            guard let first = Self.validStream(port: port) else { return false }
            try? await Task.sleep(nanoseconds: 300_000_000)
            settled = Self.validStream(port: port)
            return settled.map { $0.gaps == first.gaps && $0.stored > first.stored } ?? false
        }, "the valid stream's gap frames kept growing")
        let before = try #require(settled)

        let udp = LoopbackSockets.udpSocket()
        defer { close(udp) }
        // A session that has started validly: calibrated, with a frame played.
        for template in [#"{"type":"sync_calibration_block","session_id":"SESSION","timestamp_cpu":NOW,"timestamp_gpu":NOW}"#,
                         #"{"type":"jdat","session_id":"SESSION","seq":0,"timestamp_gpu":NOW,"payload":[0.5,0.5]}"#] {
            LoopbackSockets.sendDatagram(port: player.port, Self.line(Field(name: "", template: template, values: []), value: "", session: "started"), from: udp)
        }
        var sent = 0
        for field in Self.fields {
            for value in field.values {
                for session in ["alone-\(sent)", "started"] {
                    LoopbackSockets.sendDatagram(port: player.port, Self.line(field, value: value, session: session), from: udp)
                    sent += 1
                    let reply = OperationsEndpointTests.request("/status", port: port)
                    #expect(reply.status == 200, "\(field) = \(value) in \(session): /status answered \(reply.status)")
                    if reply.status != 200 { Issue.record("the player stopped: \(player.log.suffix(2_000))"); return }
                }
            }
        }
        #expect(sent > 200)
        try await Task.sleep(nanoseconds: 500_000_000)
        let after = try #require(Self.validStream(port: port))
        // jamsend gives up a TCP connection whose send stalls for 0.5 s and comes back as a new
        // session: on a machine loaded by parallel tests that is the machine's doing, and it says
        // so in its log. Then the stream's figures start again, and only its playing is checked.
        let senderReconnected = ((try? String(contentsOf: senderLog, encoding: .utf8)) ?? "").contains("lost the connection")
        if senderReconnected {
            #expect(after.stored > 0, "the valid stream did not come back: \(before) → \(after)")
        } else {
            #expect(after.stored > before.stored + 20, "the valid stream stopped arriving: \(before) → \(after)")
            #expect(after.late == 0 && after.gaps == before.gaps,
                    "the valid stream had late frames or gaps: \(before) → \(after); \(OperationsEndpointTests.request("/status", port: port).body.prefix(4_000))")
        }
        #expect(player.process.isRunning)
        sender.terminate()
        #expect(player.terminate().status == 0, "\(player.log.suffix(2_000))")
    }
}
