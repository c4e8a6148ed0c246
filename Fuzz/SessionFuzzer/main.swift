import Authentication
import Buffer
import CFuzzerDriver
import Concealment
import Core
import Foundation
import Ingest
import Realtime
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer harness for everything behind the decoder (`make fuzz`): each input is read as a
// program of messages — calibration blocks, GPU- and CPU-stamped frames, clock echoes (to real
// probes or made up), raw lines — whose numbers come from the ends of every range (0, ±1, the
// int64 and uint64 ends, ±2^62, 2^53 ± 1, huge and tiny doubles, every unit and counter width)
// or are plausible (near the injected clock), interleaved with time passing, session expiry,
// probes, and playback rendering every stream the table attaches (its gaps concealed from the
// predictions a concealment worker makes for them). Half the inputs run with keys
// (jamnet/1.2): each line then signed or not, its code right, altered, cut or moved, its key
// known or not, its counter fresh, repeated or a boundary, echoes carrying the probes'
// challenges or not. Nothing may trap; memory and counts stay within their limits; what is
// rendered is finite.

/// Reads the fuzzer's bytes as choices; zeros once they run out.
struct Choices {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    var isExhausted: Bool { position >= bytes.count }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func pick<T>(_ options: [T]) -> T { options[Int(byte()) % options.count] }

    mutating func uint64() -> UInt64 { (0..<8).reduce(0) { value, _ in value << 8 | UInt64(byte()) } }
}

/// A number as it may appear on the wire: an integer token, or any JSON number.
enum Number {
    static let integers: [String] = [
        "0", "1", "-1", "2", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "4611686018427387903", "-4611686018427387903", "4611686018427387904",
        "-4611686018427387904", "9007199254740993", "-9007199254740993", "4294967295", "4294967296", "65535", "65536",
        "15", "16", "63", "64", "65", "768000", "768001", "48000", "44100", "999999", "1000000", "99999999999999999999999",
    ]
    static let doubles: [String] = [
        "0", "-0", "0.0", "1e-300", "5e-324", "1e300", "1e200", "1.7976931348623157e308", "1e309", "-1", "0.01", "0.009",
        "1000000", "1000000.5", "52.083333", "1e9", "1000000001", "3.5", "1e-7", "2.2250738585072014e-308",
    ]
}

/// What the harness keeps between messages of one input.
final class Harness: @unchecked Sendable {
    var now: Int64 = 1_000_000_000_000
    var table: SessionTable!
    let counters = PlaybackCounters()
    var streams: [ObjectIdentifier: PlaybackStream] = [:]
    /// Each attached stream's concealment, served when time passes and before playback renders.
    var concealers: [ObjectIdentifier: StreamConcealer] = [:]
    /// Each attached stream's ring and timeline, kept alive as playback's slots would.
    var owners: [ObjectIdentifier: IngestStream] = [:]
    var probes: [(id: String, sent: String, challenge: String?)] = []
    /// With keys: the ring the table checks against (k1, k2), and the counter lines are signed with.
    var keyed = false
    let keys = [try! AuthenticationKey(id: "k1", secret: Array(repeating: 1, count: 32)), try! AuthenticationKey(id: "k2", secret: Array(repeating: 2, count: 40))]
    var counter: UInt64 = 1
    let output = UnsafeMutablePointer<Float>.allocate(capacity: 256 * 64)
    var configuration = IngestConfiguration()

    init() {
        // Small enough that a run makes many rings quickly; the limits are what is checked.
        configuration.maximumBufferBytes = .mebibytes(8)
        configuration.maximumStreamBufferBytes = .mebibytes(2)
        configuration.maximumSessions = 6
        configuration.maximumStreams = 8
        configuration.ringDuration = .milliseconds(100)
        configuration.maximumLineBytes = .kibibytes(64)
        // Arrivals are measured against a device's schedule, and `--latency auto` chooses from them.
        let schedule = PublishedDeviceSchedule()
        schedule.publish(.init(periodStart: Nanoseconds(1_000_000_000_000), period: .microseconds(5_333), mixLead: .milliseconds(2),
                               readAhead: .microseconds(500)))
        configuration.deviceSchedule = schedule
        configuration.automaticLatencyCeiling = .milliseconds(200)
        // Concealment on, as by default: rings keep history, streams get room for predictions.
        configuration.concealment = .standard
        // Timelines that keep few observations in blocks of two and a short window: within an
        // input's 64 lines, refits merge blocks, cut them at the window and wrap the kept ones.
        configuration.timeline.maximumObservations = 24
        configuration.timeline.hullBlockLength = 2
        configuration.timeline.window = .milliseconds(150)
    }

    func reset(keyed: Bool) {
        self.keyed = keyed
        configuration.keys = keyed ? KeyRing(keys) : nil
        counter = 1
        now = 1_000_000_000_000
        streams = [:]
        concealers = [:]
        owners = [:]
        probes = []
        configuration.latency = PlaybackLatency(.milliseconds(20))  // each input starts afresh
        table = SessionTable(
            configuration: configuration, isSameHost: { $0.port % 2 == 0 },
            streamEvents: { [unowned self] stream, started in
                let key = ObjectIdentifier(stream)
                if started {
                    streams[key] = PlaybackStream(stream.handoff, maximumPeriod: 256, counters: counters, concealment: .standard)
                    concealers[key] = stream.handoff.concealment.map { StreamConcealer(stream.handoff, prepared: $0, settings: .standard) }
                    owners[key] = stream
                } else {
                    streams[key] = nil
                    concealers[key] = nil
                    owners[key] = nil
                }
            },
            send: { [unowned self] _, line in record(probe: line) })
    }

    /// A number for a timestamp field: a boundary, or a plausible time near now in some unit.
    func timestamp(_ choices: inout Choices) -> String {
        switch choices.byte() % 4 {
        case 0: return choices.pick(Number.integers)
        case 1: return String(now + Int64(Int8(bitPattern: choices.byte())) * 1_000_000)
        case 2: return String((now + Int64(choices.byte()) * 5_000_000) / choices.pick([1, 1_000, 1_000_000]))
        default: return String(Int64(bitPattern: choices.uint64()))
        }
    }

    func session(_ choices: inout Choices) -> String { choices.pick([#""session_id":"a","#, #""session_id":"b","#, "", #""session_id":"c\u0000\n","#]) }

    func source(_ choices: inout Choices) -> SourceKey {
        // Even ports are this host's (the identity clock), odd ones remote (measured).
        SourceKey(transport: choices.pick([.udp, .tcp]), address: choices.pick(["127.0.0.1", "192.0.2.1"]), port: Int(choices.byte() % 4))
    }

    /// Remembers a probe the table sent, so that an echo can answer it.
    func record(probe line: [UInt8]) {
        let text = String(decoding: line, as: UTF8.self)
        if let id = Self.number(after: #""probe_id":"#, in: text), let sent = Self.number(after: #""timestamp_probe_sent":"#, in: text) {
            let challenge = text.range(of: #""challenge":""#).map { String(text[$0.upperBound...].prefix(32)) }
            probes.append((id, sent, challenge))
        }
    }

    /// `line` as a key holder, a forger or a replayer might send it with keys configured.
    func sign(_ line: String, _ choices: inout Choices) -> String {
        guard line.hasSuffix("}"), choices.byte() % 8 != 0 else { return line }  // sometimes unsigned
        let id = choices.pick(["k1", "k1", "k2", "k3", "bad id", ""])
        let counterText: String
        switch choices.byte() % 6 {
        case 0: counterText = String(counter)  // the last one again: a replay
        case 1: counterText = choices.pick(Number.integers)
        case 2: counterText = String(counter &- UInt64(choices.byte()) &* 8)
        default:
            counter &+= 1
            counterText = String(counter)
        }
        var body = Array(line.utf8.dropLast())
        body += Array(#","key_id":"\#(id)","auth_counter":\#(counterText),"#.utf8)
        var code = keys.first { $0.id == id }.map { key in body.withUnsafeBytes { key.code(for: $0) } } ?? Array(repeating: choices.byte(), count: 32)
        if choices.byte() % 6 == 0 { code[Int(choices.byte() % 32)] ^= 1 }
        var hex: [UInt8] = []
        for byte in code { hex += Array(String(byte, radix: 16).count == 1 ? "0\(String(byte, radix: 16))".utf8 : String(byte, radix: 16).utf8) }
        let field = #""mac":"\#(String(decoding: hex, as: UTF8.self))""#
        switch choices.byte() % 10 {
        case 0: return String(decoding: body.dropLast(), as: UTF8.self) + "}"  // no code at all
        case 1: return String(decoding: body, as: UTF8.self) + #""mac":"\#(String(decoding: hex.dropLast(), as: UTF8.self))"}"#  // cut
        case 2: return "{" + field + "," + String(decoding: body.dropFirst().dropLast(), as: UTF8.self) + "}"  // moved
        case 3: return String(decoding: body, as: UTF8.self) + field.uppercased() + "}"
        default: return String(decoding: body, as: UTF8.self) + field + "}"
        }
    }

    func run(_ choices: inout Choices) {
        reset(keyed: choices.byte() % 2 == 1)
        var steps = 0
        while !choices.isExhausted && steps < 64 {
            steps += 1
            var line = ""
            let from = source(&choices)
            switch choices.byte() % 9 {
            case 0, 1:
                let unit = choices.pick([#""#, #""timestamp_unit":"us","#, #""timestamp_unit":"ms","#, #""timestamp_unit":"ns","#,
                                         #""timestamp_unit":"ticks","tick_period_ns":\#(choices.pick(Number.doubles)),"#,
                                         #""timestamp_unit":"ticks","#, #""timestamp_unit":"s","#])
                let bits = choices.byte() % 3 == 0 ? #""timestamp_bits":\#(choices.pick(["1", "15", "16", "32", "40", "63", "64", "65", "0"])),"# : ""
                let deviation = choices.byte() % 2 == 0 ? #""max_deviation":\#(choices.pick(Number.doubles)),"# : ""
                line = #"{"type":"sync_calibration_block",\#(unit)\#(bits)\#(deviation)\#(session(&choices))"timestamp_cpu":\#(timestamp(&choices)),"timestamp_gpu":\#(timestamp(&choices))}"#
            case 2, 3, 4:
                let clock = choices.pick(["timestamp_gpu", "timestamp_cpu"])
                let channels = choices.pick([1, 1, 2, 2, 64, 0, 65])
                let rate = choices.pick(["48000", "44100", "96000", "768000", "1", "8000", "0", "768001"])
                let frames = channels > 2 ? choices.pick([0, 1, 16]) : choices.pick([0, 1, 16, 256, 480])
                let seq = choices.byte() % 3 == 0 ? "" : #""seq":\#(choices.byte() % 4 == 0 ? choices.pick(Number.integers) : String(steps)),"#
                let sample = choices.pick(["0.5", "-1", "2", "1e38", "1e39", "-0", "1e-45"])
                let payload = Array(repeating: sample, count: frames * max(channels, 1)).joined(separator: ",")
                line = #"{"type":"jdat",\#(session(&choices))"stream_id":"\#(choices.byte() % 3)",\#(seq)"sample_rate":\#(rate),"channels":\#(channels),"\#(clock)":\#(timestamp(&choices)),"payload":[\#(payload)]}"#
            case 5:
                // An echo: to a probe the table sent (exact or nearly), or made up.
                let probe = probes.isEmpty || choices.byte() % 3 == 0
                    ? (id: choices.pick(Number.integers), sent: timestamp(&choices), challenge: choices.pick([nil, "00112233445566778899aabbccddeeff", "x"]))
                    : choices.pick(probes)
                let received = timestamp(&choices)
                let challenge = probe.challenge.map { #""challenge":"\#($0)","# } ?? ""
                line = #"{"type":"clock_echo","probe_id":\#(probe.id),"timestamp_probe_sent":\#(probe.sent),"timestamp_probe_received":\#(received),"timestamp_echo_sent":\#(choices.byte() % 2 == 0 ? received : timestamp(&choices)),\#(session(&choices))\#(challenge)"version":"jamnet/1.1"}"#
            case 6:
                // Time passes: sessions expire, probes go out.
                now += Int64(choices.pick([0, 1, 5, 20, 1_000, 6_000])) * 1_000_000
                table.expire(now: Nanoseconds(now))
                for probe in table.probes(now: Nanoseconds(now)) { record(probe: probe.line) }
            case 7:
                render(periods: Int(choices.byte() % 4) + 1, latency: choices.pick([0, 20, 200, 2_000]))
            default:
                // Raw bytes as a line, or the other messages and versions.
                let count = Int(choices.byte() % 64)
                var bytes: [UInt8] = []
                for _ in 0..<count { bytes.append(choices.byte()) }
                line = choices.byte() % 2 == 0 ? String(decoding: bytes, as: UTF8.self)
                    : #"{"type":"\#(choices.pick(["clock_probe", "x", "jdat"]))","version":"\#(choices.pick(["jamnet/1.9", "jamnet/2.0", "jamnet/1", "x"]))","probe_id":1,"timestamp_probe_sent":\#(timestamp(&choices))}"#
            }
            if keyed { line = sign(line, &choices) }
            if !line.isEmpty {
                Array(line.utf8).withUnsafeBytes { table.receive($0, from: from, at: Nanoseconds(now)) }
                now += Int64(choices.byte() % 16) * 500_000
            }
            check()
        }
        render(periods: 4, latency: 20)
        check()
    }

    /// The integer after `key` in `text`.
    static func number(after key: String, in text: String) -> String? {
        guard let range = text.range(of: key) else { return nil }
        return String(text[range.upperBound...].prefix { $0 == "-" || $0.isNumber })
    }

    /// Plays every attached stream for `periods` device periods from now.
    func render(periods: Int, latency: Int64) {
        for period in 0..<periods {
            let firstTime = Nanoseconds(now + Int64(period) * 5_333_333)
            for concealer in concealers.values { _ = concealer.service(now: firstTime) }
            for stream in streams.values {
                _ = stream.render(frames: 256, firstTime: firstTime, deviceRate: 48_000, latency: .milliseconds(latency), into: output)
                for index in 0..<256 * stream.channels { precondition(output[index].isFinite, "a rendered sample is not finite") }
            }
        }
    }

    /// What must hold whatever was sent.
    func check() {
        precondition(table.budget.usedBytes <= table.budget.limit, "rings beyond the buffer budget")
        precondition(table.activeSessions.filter { !$0.isVerified }.count <= configuration.maximumUnverifiedSessions, "unverified sessions beyond the limit")
        if keyed { precondition(table.activeSessions.allSatisfy { ["k1", "k2"].contains($0.keyID) }, "a session without a valid key") }
        precondition(table.counters.sessionsActive.value <= configuration.maximumSessions, "sessions beyond the limit")
        precondition(table.counters.streamsActive.value <= configuration.maximumStreams, "streams beyond the limit")
        for stream in owners.values {
            guard let line = stream.handoff.timeline.line else { continue }
            precondition(abs(line.samplesPerSecond / Double(stream.sampleRate.hertz) - 1) <= 0.01, "a published rate no clock gives")
        }
    }
}

nonisolated(unsafe) private let harness = Harness()

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    var choices = Choices(bytes: UnsafeBufferPointer(start: data, count: size))
    harness.run(&choices)
    return 0
})
