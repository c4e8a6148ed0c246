import Buffer
import Core
import Ingest
import Synchronization
import Testing
import Wire

/// What a hostile or broken sender can send, fed to the session table as raw lines: the lines
/// that once stopped the player, extreme numbers after a valid session has started, echoes that
/// answer nothing, floods of formats and of reports. Nothing traps; everything is counted; the
/// valid stream keeps its frames.
@Suite struct HostileInputTests {
    let source = SourceKey(transport: .udp, address: "127.0.0.1", port: 40_000)
    let remote = SourceKey(transport: .udp, address: "192.0.2.7", port: 50_000)
    static let second: Int64 = 1_000_000_000

    func send(_ table: SessionTable, _ text: String, from source: SourceKey? = nil, at time: Int64 = 0) {
        Array(text.utf8).withUnsafeBytes { table.receive($0, from: source ?? self.source, at: Nanoseconds(time)) }
    }

    /// A valid GPU-stamped stereo frame of session "s", 480 samples, its number in its samples.
    static func frame(_ number: Int) -> String {
        let time = 1_000_000_000_000 + Int64(number) * 10_000_000
        let samples = [String](repeating: "0.25", count: 960).joined(separator: ",")
        return #"{"type":"jdat","timestamp_gpu":\#(time + 7_000),"session_id":"s","stream_id":"main","seq":\#(number),"channels":2,"payload":[\#(samples)]}"#
    }

    static let block = #"{"type":"sync_calibration_block","timestamp_cpu":1000000000000,"timestamp_gpu":1000000007000,"session_id":"s"}"#

    /// A table with a calibrated session "s" that has stored 10 frames.
    func startedTable(_ configure: (inout IngestConfiguration) -> Void = { _ in }) -> SessionTable {
        var configuration = IngestConfiguration()
        configure(&configuration)
        let table = SessionTable(configuration: configuration)
        send(table, Self.block)
        for number in 0..<10 { send(table, Self.frame(number), at: Int64(number) * 10_000_000) }
        return table
    }

    func stored(_ table: SessionTable) -> Int { table.session(source, "s")?.streams["main"]?.ring.stored ?? 0 }

    // MARK: - The lines that once stopped the player

    @Test(arguments: [
        #"{"type":"sync_calibration_block","timestamp_cpu":1000000000000,"timestamp_gpu":1000000007000,"max_deviation":1e200,"session_id":"s"}"#,
        #"{"type":"sync_calibration_block","timestamp_cpu":1,"timestamp_gpu":2,"timestamp_unit":"ticks","tick_period_ns":1e300,"session_id":"s"}"#,
        #"{"type":"sync_calibration_block","timestamp_cpu":-9223372036854775808,"timestamp_gpu":9223372036854775807,"session_id":"s"}"#,
        #"{"type":"sync_calibration_block","timestamp_cpu":9223372036854775807,"timestamp_gpu":-9223372036854775808,"session_id":"s"}"#,
        #"{"type":"jdat","timestamp_gpu":9223372036854775807,"session_id":"s","stream_id":"main","channels":2,"payload":[0,0]}"#,
        #"{"type":"jdat","timestamp_cpu":-9223372036854775808,"session_id":"s","stream_id":"cpu","payload":[0]}"#,
        #"{"type":"clock_echo","probe_id":1,"timestamp_probe_sent":-9223372036854775808,"timestamp_probe_received":0,"timestamp_echo_sent":9223372036854775807,"session_id":"s"}"#,
    ])
    func aLineThatOnceStoppedThePlayerIsRefusedAndTheStreamGoesOn(line: String) {
        let table = startedTable()
        send(table, line, at: 100_000_000)
        #expect(table.counters.rejected(.invalidField).value == 1)
        for number in 10..<20 { send(table, Self.frame(number), at: Int64(number) * 10_000_000) }
        #expect(stored(table) == 20)
    }

    @Test func timestampsJumpingBetweenTheEndsOfTheirRangeNeverTrap() {
        let table = startedTable()
        let limit = Nanoseconds.networkLimit.rawValue
        let extremes: [Int64] = [limit, -limit, limit - 1, -limit + 1, 0, 1, -1, limit / 2, -limit / 2]
        var time: Int64 = 100_000_000
        for (index, value) in extremes.enumerated() {
            for other in extremes {
                time += 1_000_000
                send(table, #"{"type":"sync_calibration_block","timestamp_cpu":\#(value),"timestamp_gpu":\#(other),"session_id":"s"}"#, at: time)
                send(table, #"{"type":"jdat","timestamp_gpu":\#(other),"session_id":"s","stream_id":"main","seq":\#(index),"channels":2,"payload":[0,0]}"#, at: time)
                send(table, #"{"type":"jdat","timestamp_cpu":\#(value),"session_id":"s","stream_id":"cpu","payload":[0.5]}"#, at: time)
                send(table, #"{"type":"sync_calibration_block","timestamp_cpu":\#(value / 1_000_000),"timestamp_gpu":\#(other / 1_000_000),"timestamp_unit":"ms","timestamp_bits":\#(index % 2 == 0 ? 64 : 40),"session_id":"s"}"#, at: time)
                send(table, #"{"type":"sync_calibration_block","timestamp_cpu":\#(value),"timestamp_gpu":\#(other / 1_000_000),"timestamp_unit":"ticks","tick_period_ns":999999.5,"session_id":"t"}"#, at: time)
                send(table, #"{"type":"jdat","timestamp_gpu":\#(other),"session_id":"t","payload":[0.5]}"#, at: time)
            }
        }
        // Still a working table: a fresh session plays.
        send(table, Self.block.replacingOccurrences(of: #""s""#, with: #""fresh""#), at: time)
        send(table, Self.frame(0).replacingOccurrences(of: #""s""#, with: #""fresh""#), at: time)
        #expect(table.session(source, "fresh")?.streams["main"]?.ring.stored == 1)
        // Whatever each clock chain holds, what it publishes is a line playback can use, or nothing.
        for session in table.activeSessions {
            for stream in session.streams.values {
                guard let line = stream.handoff.timeline.line else { continue }
                #expect(line.samplesPerSecond.isFinite && abs(line.samplesPerSecond / Double(stream.sampleRate.hertz) - 1) <= 0.01)
            }
        }
    }

    // MARK: - Memory

    @Test func aFrameAskingForAHugeRingIsRefusedAndMemoryStaysWithinTheBudget() {
        let table = startedTable()
        let before = table.budget.usedBytes
        // 768 kHz, 64 channels and a one-frame payload: once 25 GB; now over one ring's share.
        let payload = [String](repeating: "0", count: 64).joined(separator: ",")
        send(table, #"{"type":"jdat","timestamp_cpu":1,"session_id":"x","sample_rate":768000,"channels":64,"payload":[\#(payload)]}"#)
        #expect(table.counters.refusedBuffers.value == 1)
        #expect(table.budget.usedBytes == before)
        // Rings that do fit are allocated until the total is reached, then refused.
        for stream in 0..<32 {
            send(table, #"{"type":"jdat","timestamp_cpu":1,"session_id":"x","stream_id":"\#(stream)","sample_rate":192000,"channels":16,"payload":[\#([String](repeating: "0", count: 16).joined(separator: ","))]}"#)
        }
        #expect(table.budget.usedBytes <= table.budget.limit)
        #expect(table.counters.refusedBuffers.value > 1)
        #expect(stored(table) == 10)
    }

    @Test func concealmentsMemoryComesFromTheBufferBudget() throws {
        let table = startedTable { $0.concealment = .standard }
        let stream = try #require(table.session(source, "s")?.streams["main"])
        let prepared = try #require(stream.handoff.concealment)
        // The ring keeps 40 ms behind its reader besides what it holds ahead; four predictions of 60 ms.
        #expect(stream.ring.retained == 1_920 && stream.ring.capacity == 48_960 + 1_920)
        #expect(prepared.capacity == 2_880)
        #expect(table.budget.usedBytes.rawValue == stream.ring.byteCount.rawValue + prepared.byteCount.rawValue)
        // Without room for predictions a stream still plays, its gaps silent.
        let tight = startedTable {
            $0.concealment = .standard
            $0.maximumBufferBytes = FrameRing.byteCount(capacity: 48_960 + 1_920, channels: ChannelCount(2))
            $0.maximumStreamBufferBytes = $0.maximumBufferBytes
        }
        let plain = try #require(tight.session(source, "s")?.streams["main"])
        #expect(plain.handoff.concealment == nil && plain.ring.stored == 10)
    }

    @Test func aRingHoldsTheLatencyAndASecondOfItsStreamWhateverItsFramesSay() throws {
        let table = startedTable { $0.ringDuration = .milliseconds(1_020) }
        let ring = try #require(table.session(source, "s")?.streams["main"]?.ring)
        #expect(ring.capacity == 48_960 && ring.channels == 2)
    }

    // MARK: - Clock echoes

    @Test func anEchoCountsOnlyForAProbeAwaitingItWithItsSendTime() throws {
        let table = SessionTable(isSameHost: { _ in false })
        send(table, #"{"type":"jdat","timestamp_cpu":1000000000000,"session_id":"r","payload":[0]}"#, from: remote, at: Self.second)
        let probes = table.probes(now: Nanoseconds(2 * Self.second))
        let probe = try #require(probes.first)
        let text = String(decoding: probe.line, as: UTF8.self)
        let id = try #require(text.firstMatch(of: /"probe_id":(\d+)/).map { String($0.1) })
        func echo(id: String, sent: Int64) -> String {
            #"{"type":"clock_echo","probe_id":\#(id),"timestamp_probe_sent":\#(sent),"timestamp_probe_received":5000000000,"timestamp_echo_sent":5000000100,"session_id":"r"}"#
        }
        send(table, echo(id: id, sent: 2 * Self.second + 1), from: remote, at: 2 * Self.second + 300_000)  // wrong send time
        send(table, echo(id: "999", sent: 2 * Self.second), from: remote, at: 2 * Self.second + 300_000)  // unknown id
        send(table, echo(id: id, sent: 2 * Self.second).replacingOccurrences(of: #""r""#, with: #""nobody""#), from: remote, at: 2 * Self.second + 300_000)
        #expect(table.counters.unexpectedEchoes.value == 3)
        #expect(table.session(remote, "r")?.host.mode == .oneWay)
        #expect(table.session(remote, "nobody") == nil)
        send(table, echo(id: id, sent: 2 * Self.second), from: remote, at: 2 * Self.second + 300_000)
        #expect(table.session(remote, "r")?.host.mode == .twoWay)
        // Answered once: a replay of the same echo counts for nothing.
        send(table, echo(id: id, sent: 2 * Self.second), from: remote, at: 2 * Self.second + 400_000)
        #expect(table.counters.unexpectedEchoes.value == 4)
        #expect(table.session(remote, "r")?.host.status.exchangesTaken == 1)
    }

    @Test func onlyTheLastFewProbesAwaitTheirEcho() throws {
        var configuration = IngestConfiguration()
        configuration.outstandingProbes = 2
        let table = SessionTable(configuration: configuration, isSameHost: { _ in false })
        send(table, #"{"type":"jdat","timestamp_cpu":1000000000000,"session_id":"r","payload":[0]}"#, from: remote)
        let ids = (1...3).compactMap { second in
            table.probes(now: Nanoseconds(Int64(second) * Self.second)).first.flatMap {
                String(decoding: $0.line, as: UTF8.self).firstMatch(of: /"probe_id":(\d+)/).map { String($0.1) }
            }
        }
        #expect(ids.count == 3)
        for (index, id) in ids.enumerated() {
            let sent = Int64(index + 1) * Self.second
            send(table, #"{"type":"clock_echo","probe_id":\#(id),"timestamp_probe_sent":\#(sent),"timestamp_probe_received":1,"timestamp_echo_sent":2,"session_id":"r"}"#,
                 from: remote, at: 3 * Self.second + 100_000)
        }
        #expect(table.counters.unexpectedEchoes.value == 1)  // the first probe was forgotten
    }

    // MARK: - Reports

    @Test func reportsAreLimitedByClassWhateverTheAddressAndNetworkTextIsEscaped() {
        let told = Mutex<[String]>([])
        let table = SessionTable(sessionEvents: { event in told.withLock { $0.append("\(event)") } })
        for address in 0..<200 {
            let source = SourceKey(transport: .udp, address: "198.51.100.\(address)", port: 1)
            send(table, #"{"type":"evil\u001b[2J\nforged line","session_id":"\u202Ex"}"#, from: source, at: Int64(address) * 1_000_000)
            send(table, "{", from: source, at: Int64(address) * 1_000_000)
        }
        let lines = told.withLock { $0 }
        #expect(table.counters.rejected(.unknownType).value == 200 && table.counters.rejected(.jsonError).value == 200)
        #expect(lines.filter { $0.contains("unknown-type") }.count == SessionTable.reportsPerMinute)
        #expect(lines.filter { $0.contains("json-error") }.count == SessionTable.reportsPerMinute)
        #expect(lines.allSatisfy { !$0.contains("\n") && !$0.contains("\u{1B}") && !$0.contains("\u{202E}") })
        #expect(lines.contains { $0.contains(#"evil\u{1b}[2J\u{a}forged line"#) })
        // A minute later the next report says how many were withheld.
        send(table, "{", from: source, at: 61 * Self.second)
        #expect(told.withLock { $0.last?.contains("json-error") == true })
        #expect(told.withLock { $0.contains { $0.contains("195 more reports of json-error were withheld") } })
    }
}
