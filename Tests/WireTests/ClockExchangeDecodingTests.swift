import Core
import Testing
import Wire

/// jamnet/1.1 `clock_probe` and `clock_echo`.
@Suite struct ClockExchangeDecodingTests {
    @Test func aProbeDecodes() {
        let line = #"{"type":"clock_probe","version":"jamnet/1.1","probe_id":17,"timestamp_probe_sent":123456789,"session_id":"s"}"#
        #expect(decode(line).0 == .clockProbe(ClockProbe(probeID: 17, probeSent: Nanoseconds(123_456_789), sessionID: "s")))
    }

    @Test func anEchoDecodes() {
        let line = #"{"type":"clock_echo","version":"jamnet/1.1","probe_id":18446744073709551615,"timestamp_probe_sent":-5,"timestamp_probe_received":4611686018427387902,"timestamp_echo_sent":4611686018427387903}"#
        #expect(decode(line).0 == .clockEcho(ClockEcho(
            probeID: .max, probeSent: Nanoseconds(-5), probeReceived: Nanoseconds(Nanoseconds.networkLimit.rawValue - 1), echoSent: .networkLimit)))
    }

    @Test(arguments: [
        (#"{"type":"clock_probe","timestamp_probe_sent":1}"#, InvalidField(.probeID, .missing)),
        (#"{"type":"clock_probe","probe_id":1}"#, InvalidField(.timestampProbeSent, .missing)),
        (#"{"type":"clock_probe","probe_id":-1,"timestamp_probe_sent":1}"#, InvalidField(.probeID, .outOfRange(allowed: "0...18446744073709551615"))),
        (#"{"type":"clock_probe","probe_id":1,"timestamp_probe_sent":1.5}"#, InvalidField(.timestampProbeSent, .notAnInteger)),
        (#"{"type":"clock_echo","probe_id":1,"timestamp_probe_sent":1,"timestamp_probe_received":-9223372036854775808,"timestamp_echo_sent":3}"#,
         InvalidField(.timestampProbeReceived, .outOfRange(allowed: "-4611686018427387903...4611686018427387903"))),
        (#"{"type":"clock_echo","probe_id":1,"timestamp_probe_sent":1,"timestamp_probe_received":2}"#, InvalidField(.timestampEchoSent, .missing)),
        (#"{"type":"clock_echo","probe_id":1,"timestamp_probe_sent":1,"timestamp_probe_received":5,"timestamp_echo_sent":4}"#,
         InvalidField(.timestampEchoSent, .outOfRange(allowed: ">= timestamp_probe_received"))),
        (#"{"type":"clock_echo","probe_id":1,"probe_id":1,"timestamp_probe_sent":1,"timestamp_probe_received":2,"timestamp_echo_sent":3}"#,
         InvalidField(.probeID, .duplicate)),
    ])
    func badFieldsAreNamedWithTheirProblem(line: String, expected: InvalidField) {
        #expect(rejection(line) == .invalidField(expected))
    }

    @Test func probesAndEchoesSurviveEncodeThenDecode() throws {
        var random = SeededRandom(seed: 12)
        var decoder = JamnetDecoder()
        var none: [Float] = []
        for _ in 0..<1000 {
            let limit = Nanoseconds.networkLimit.rawValue
            let received = Int64.random(in: -limit ... (limit - 1_000_000), using: &random)
            let echo = ClockEcho(
                probeID: UInt64.random(in: 0 ... .max, using: &random), probeSent: Nanoseconds(Int64.random(in: -limit ... limit, using: &random)),
                probeReceived: Nanoseconds(received), echoSent: Nanoseconds(received + Int64.random(in: 0...1_000_000, using: &random)),
                sessionID: Bool.random(using: &random) ? "session \(random.next())" : nil)
            var line: [UInt8] = []
            try JamnetEncoder().encode(echo, into: &line)
            #expect(decoder.decode(line, samples: &none) == .clockEcho(echo))
            let probe = ClockProbe(probeID: echo.probeID, probeSent: echo.probeSent, sessionID: echo.sessionID)
            line = []
            try JamnetEncoder().encode(probe, into: &line)
            #expect(decoder.decode(line, samples: &none) == .clockProbe(probe))
        }
    }

    @Test func theEncoderWritesVersion11ForTheExchange() throws {
        var line: [UInt8] = []
        try JamnetEncoder().encode(ClockProbe(probeID: 1, probeSent: Nanoseconds(2)), into: &line)
        #expect(String(decoding: line, as: UTF8.self) == #"{"type":"clock_probe","version":"jamnet/1.1","probe_id":1,"timestamp_probe_sent":2}"#)
    }
}
