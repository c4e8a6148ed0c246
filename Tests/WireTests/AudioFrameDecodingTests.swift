import Core
import Testing
import Wire

/// `jdat` frames: samples into the caller's buffer, exact timestamps, field rules.
@Suite struct AudioFrameDecodingTests {
    @Test func aFullFrameDecodesEveryField() {
        let line = #"{"type":"jdat","version":"jamnet/1.0","timestamp_gpu":1701234600000,"session_id":"s1","stream_id":"left","seq":7,"sample_rate":44100,"channels":2,"payload":[0.5,-0.5,1,-1,0,-0.0]}"#
        let (result, samples) = decode(line)
        let expected = AudioFrameHeader(
            version: .init(major: 1, minor: 0), timestamp: .gpu(1_701_234_600_000), sessionID: "s1", streamID: "left",
            sequence: 7, sampleRate: SampleRate(hertz: 44_100), channelCount: ChannelCount(2))
        #expect(result == .audioFrame(expected, sampleCount: 6, clippedSampleCount: 0))
        #expect(samples.map(\.bitPattern) == [0.5, -0.5, 1, -1, 0, -0.0 as Float].map(\.bitPattern))
    }

    @Test func defaultsAreMonoAt48kHz() {
        guard case .audioFrame(let header, 3, 0) = decode(#"{"type":"jdat","timestamp_gpu":0,"payload":[1,2e-1,3e-2]}"#).0 else {
            Issue.record("not a frame"); return
        }
        #expect(header.sampleRate == .standard && header.channelCount == .mono && header.sessionID == nil && header.sequence == nil)
    }

    @Test func anEmptyPayloadIsValidAndPlaysNothing() {
        #expect(decode(#"{"type":"jdat","timestamp_gpu":0,"channels":2,"payload":[ ]}"#).0.lineClass == .ok)
    }

    @Test func samplesOutsideTheUnitRangeAreClippedAndCounted() {
        let (result, samples) = decode(#"{"type":"jdat","timestamp_gpu":0,"payload":[1.5,-2,0.25,1e30,-1.0000001]}"#)
        guard case .audioFrame(_, 5, let clipped) = result else { Issue.record("\(result)"); return }
        #expect(clipped == 4)
        #expect(samples == [1, -1, 0.25, 1, -1])
    }

    @Test(arguments: [
        ("-4611686018427387903", -(1 << 62) + 1),
        ("4611686018427387903", (1 << 62) - 1),
        ("9007199254740993", 9_007_199_254_740_993),  // 2^53 + 1: a Double would lose it
        ("-0", 0),
    ] as [(String, Int64)])
    func timestampsAreExactOverTheirWholeRange(text: String, value: Int64) {
        guard case .audioFrame(let header, _, _) = decode("{\"type\":\"jdat\",\"timestamp_gpu\":\(text),\"payload\":[]}").0 else {
            Issue.record("not a frame"); return
        }
        #expect(header.timestamp == .gpu(value))
    }

    @Test(arguments: [
        ("4611686018427387904", FieldProblem.outOfRange(allowed: "-4611686018427387903...4611686018427387903")),
        ("-4611686018427387904", .outOfRange(allowed: "-4611686018427387903...4611686018427387903")),
        ("9223372036854775807", .outOfRange(allowed: "-4611686018427387903...4611686018427387903")),
        ("-9223372036854775808", .outOfRange(allowed: "-4611686018427387903...4611686018427387903")),
        ("99999999999999999999999", .outOfRange(allowed: "-4611686018427387903...4611686018427387903")),
        ("1.5", .notAnInteger),
        ("1.0", .notAnInteger),
        ("1e3", .notAnInteger),
        ("\"123\"", .notAnInteger),
        ("null", .notAnInteger),
    ])
    func aFractionalOrOutOfRangeTimestampIsAnInvalidField(text: String, problem: FieldProblem) {
        #expect(rejection("{\"type\":\"jdat\",\"timestamp_gpu\":\(text),\"payload\":[]}") == .invalidField(InvalidField(.timestampGPU, problem)))
    }

    @Test func seqIsExactOverTheWholeUInt64Range() {
        guard case .audioFrame(let header, _, _) = decode(#"{"type":"jdat","timestamp_cpu":1,"seq":18446744073709551615,"payload":[]}"#).0 else {
            Issue.record("not a frame"); return
        }
        #expect(header.sequence == .max && header.timestamp == .cpu(1))
        #expect(rejection(#"{"type":"jdat","timestamp_cpu":1,"seq":18446744073709551616,"payload":[]}"#)?.lineClass == .invalidField)
        #expect(rejection(#"{"type":"jdat","timestamp_cpu":1,"seq":-1,"payload":[]}"#)?.lineClass == .invalidField)
    }

    @Test(arguments: [
        (#""payload":[1]"#, InvalidField(.timestampGPU, .missing)),
        (#""timestamp_gpu":1"#, InvalidField(.payload, .missing)),
        (#""timestamp_gpu":1,"timestamp_cpu":1,"payload":[]"#, InvalidField(.timestampGPU, .conflictsWithTimestampCPU)),
        (#""timestamp_gpu":1,"payload":{"0":1}"#, InvalidField(.payload, .notAnArray)),
        (#""timestamp_gpu":1,"payload":[0.5,"0.5"]"#, InvalidField(.payload, .elementNotANumber(index: 1))),
        (#""timestamp_gpu":1,"payload":[0.5,null,[1]]"#, InvalidField(.payload, .elementNotANumber(index: 1))),
        (#""timestamp_gpu":1,"channels":2,"payload":[1,2,3]"#, InvalidField(.payload, .notAMultipleOfChannels(count: 3, channels: 2))),
        (#""timestamp_gpu":1,"channels":0,"payload":[]"#, InvalidField(.channels, .outOfRange(allowed: "1...64"))),
        (#""timestamp_gpu":1,"channels":65,"payload":[]"#, InvalidField(.channels, .outOfRange(allowed: "1...64"))),
        (#""timestamp_gpu":1,"channels":2.0,"payload":[]"#, InvalidField(.channels, .notAnInteger)),
        (#""timestamp_gpu":1,"sample_rate":0,"payload":[]"#, InvalidField(.sampleRate, .outOfRange(allowed: "1...768000"))),
        (#""timestamp_gpu":1,"sample_rate":"48000","payload":[]"#, InvalidField(.sampleRate, .notAnInteger)),
        (#""timestamp_gpu":1,"session_id":5,"payload":[]"#, InvalidField(.sessionID, .notAString)),
        (#""timestamp_gpu":1,"stream_id":["a"],"payload":[]"#, InvalidField(.streamID, .notAString)),
    ])
    func badFieldsAreNamedWithTheirProblem(fields: String, expected: InvalidField) {
        #expect(rejection("{\"type\":\"jdat\",\(fields)}") == .invalidField(expected))
    }

    @Test func idsLongerThanTheLimitAreInvalid() {
        let long = String(repeating: "x", count: JamnetDecoder.maximumStringBytes + 1)
        #expect(rejection("{\"type\":\"jdat\",\"timestamp_cpu\":1,\"session_id\":\"\(long)\",\"payload\":[]}")
            == .invalidField(InvalidField(.sessionID, .tooLong(limit: JamnetDecoder.maximumStringBytes))))
        #expect(rejection("{\"type\":\"jdat\",\"timestamp_cpu\":1,\"stream_id\":\"\(long)\",\"payload\":[]}")?.lineClass == .invalidField)
        let fits = String(repeating: "é", count: JamnetDecoder.maximumStringBytes / 2)
        #expect(lineClass("{\"type\":\"jdat\",\"timestamp_cpu\":1,\"stream_id\":\"\(fits)\",\"payload\":[]}") == .ok)
        // The limit is on the unescaped value: 256 escaped characters fit, 257 do not.
        let escaped = String(repeating: "\\u00e9", count: JamnetDecoder.maximumStringBytes / 2)
        #expect(lineClass("{\"type\":\"jdat\",\"timestamp_cpu\":1,\"stream_id\":\"\(escaped)\",\"payload\":[]}") == .ok)
        #expect(lineClass("{\"type\":\"jdat\",\"timestamp_cpu\":1,\"stream_id\":\"\(escaped)x\",\"payload\":[]}") == .invalidField)
    }

    @Test func morePayloadThanTheBufferIsAnInvalidFieldAndNothingIsWrittenPastIt() {
        var decoder = JamnetDecoder()
        var samples = [Float](repeating: 9, count: 4)
        let line = Array(#"{"type":"jdat","timestamp_cpu":1,"payload":[0,0,0,0,0,0]}"#.utf8)
        let result = samples.withUnsafeMutableBufferPointer { buffer in
            line.withUnsafeBytes { decoder.decode($0, samples: UnsafeMutableBufferPointer(rebasing: buffer[..<2])) }
        }
        #expect(result == .rejected(.invalidField(InvalidField(.payload, .tooManySamples(limit: 2)))))
        #expect(samples == [0, 0, 9, 9])
    }

    @Test func escapedIdsAreUnescaped() {
        guard case .audioFrame(let header, _, _) = decode(#"{"type":"jdat","timestamp_cpu":1,"session_id":"a\"b\\c\u00e9\ud83d\ude00\n","payload":[]}"#).0 else {
            Issue.record("not a frame"); return
        }
        #expect(header.sessionID == "a\"b\\cé😀\n")
    }

    /// The payload's fast run reads numbers with no bounds check while the line has room after
    /// them: a payload early in a long line takes it, one at a line's end the checked path.
    @Test(arguments: [
        ("[0.5,,0.25]", false), ("[0.5,0.25,]", false), ("[0.5 0.25]", false), ("[0.5,\"x\",0.25]", false),
        ("[0.5,-,0.25]", false), ("[0.5,01,0.25]", false), ("[0.5,.5]", false), ("[0.5,0.25]", true), ("[0.5 ,0.25]", true),
        ("[0.5, 0.25 ]", true), ("[ 0.5,0.25]", true), ("[-0.0,1e-05,2E+3,0.123456789012345678,-1]", true), ("[]", true),
    ])
    func aPayloadReadsTheSameEarlyInALineAndAtItsEnd(payload: String, valid: Bool) {
        let before = #"{"type":"jdat","timestamp_cpu":1,"session_id":"a-session-name-of-some-length","payload":"#, after = #"}"#
        let earlyBefore = #"{"type":"jdat","payload":"#, earlyAfter = #","timestamp_cpu":1,"session_id":"a-session-name-of-some-length"}"#
        let atEnd = decode(before + payload + after), early = decode(earlyBefore + payload + earlyAfter)
        // A syntax error's place from the payload's start, or the line's result.
        func outcome(_ result: DecodedLine, payloadAt start: Int) -> String {
            if case .rejected(.jsonError(let error)) = result { return "\(error.reason) at \(error.offset - start)" }
            return "\(result)"
        }
        #expect(outcome(atEnd.0, payloadAt: before.utf8.count) == outcome(early.0, payloadAt: earlyBefore.utf8.count), "\(payload)")
        #expect(atEnd.1.map(\.bitPattern) == early.1.map(\.bitPattern), "\(payload)")
        #expect((early.0.lineClass == .ok) == valid, "\(payload): \(early.0)")
    }

    @Test func whitespaceAnywhereBetweenTokensIsAccepted() {
        let (result, samples) = decode(" {\t\"type\" : \"jdat\" ,\r\"timestamp_cpu\" :\n 3 , \"payload\" : [ 0.5 , 0.25 ] } ")
        #expect(result.lineClass == .ok && samples == [0.5, 0.25])
    }
}
