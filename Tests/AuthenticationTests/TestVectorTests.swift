import Authentication
import Core
import Testing
import Wire

/// PROTOCOL.md §3b's test vectors (computed there with an independent HMAC implementation,
/// Python's `hmac`): jamplay's signer writes them byte for byte and its check accepts them.
@Suite struct TestVectorTests {
    static let key = try! AuthenticationKey(id: "k1", secret: Array(0..<32))

    static let vectors: [(message: Message, counter: UInt64, line: String)] = [
        (.calibration(SyncCalibrationBlock(version: .authentication, timestampCPU: 1_000_000_000, timestampGPU: 1_000_012_166, sessionID: "s1")), 1,
         #"{"type":"sync_calibration_block","version":"jamnet/1.2","timestamp_cpu":1000000000,"timestamp_gpu":1000012166,"timestamp_unit":"ns","session_id":"s1","origin":"sender","key_id":"k1","auth_counter":1,"mac":"01e5f94a29c221ce4cb9ffef683bed9f900e800a394b6e8c7c69f7aebc130fb3"}"#),
        (.frame(AudioFrameHeader(version: .authentication, timestamp: .gpu(1_000_500_000), sessionID: "s1", streamID: "main", sequence: 0,
                                 sampleRate: .standard, channelCount: ChannelCount(2)), [0.5, -0.5]), 2,
         #"{"type":"jdat","version":"jamnet/1.2","timestamp_gpu":1000500000,"session_id":"s1","stream_id":"main","seq":0,"sample_rate":48000,"channels":2,"payload":[0.5,-0.5],"key_id":"k1","auth_counter":2,"mac":"96da3c4720e7db761553fd9097e2e092ff65291b6fec8c301434b37cc671a616"}"#),
        (.probe(ClockProbe(version: .authentication, probeID: 7, probeSent: Nanoseconds(5_000_000_000), sessionID: "s1",
                           challenge: "00112233445566778899aabbccddeeff")), 1_700_000_000_000_000_000,
         #"{"type":"clock_probe","version":"jamnet/1.2","probe_id":7,"timestamp_probe_sent":5000000000,"session_id":"s1","challenge":"00112233445566778899aabbccddeeff","key_id":"k1","auth_counter":1700000000000000000,"mac":"fe0d70668f0751cf34b67357e131918306a78f6501cc252a2da459c17cd095b3"}"#),
        (.echo(ClockEcho(version: .authentication, probeID: 7, probeSent: Nanoseconds(5_000_000_000), probeReceived: Nanoseconds(1_000_600_000),
                         echoSent: Nanoseconds(1_000_600_100), sessionID: "s1", challenge: "00112233445566778899aabbccddeeff")), 3,
         #"{"type":"clock_echo","version":"jamnet/1.2","probe_id":7,"timestamp_probe_sent":5000000000,"timestamp_probe_received":1000600000,"timestamp_echo_sent":1000600100,"session_id":"s1","challenge":"00112233445566778899aabbccddeeff","key_id":"k1","auth_counter":3,"mac":"32ca8a649ac8795e8d946aba3f18a7575058145abdaf2adbf7a2ef421db530e9"}"#),
    ]

    enum Message {
        case calibration(SyncCalibrationBlock), frame(AudioFrameHeader, [Float]), probe(ClockProbe), echo(ClockEcho)

        func encoded() throws -> [UInt8] {
            var line: [UInt8] = []
            let encoder = JamnetEncoder()
            switch self {
            case .calibration(let block): try encoder.encode(block, into: &line)
            case .frame(let header, let samples): try encoder.encode(header, samples: samples, into: &line)
            case .probe(let probe): try encoder.encode(probe, into: &line)
            case .echo(let echo): try encoder.encode(echo, into: &line)
            }
            return line
        }
    }

    @Test(arguments: 0..<4)
    func theSignerWritesTheVector(index: Int) throws {
        let vector = Self.vectors[index]
        var line = try vector.message.encoded()
        LineSigner(key: Self.key, firstCounter: vector.counter).sign(&line)
        #expect(String(decoding: line, as: UTF8.self) == vector.line)
    }

    @Test(arguments: 0..<4)
    func theVectorAuthenticatesAndDecodes(index: Int) {
        let line = Array(Self.vectors[index].line.utf8)
        var decoder = JamnetDecoder()
        var samples = [Float](repeating: 0, count: 16)
        let decoded = decoder.decode(line, samples: &samples)
        #expect(decoded.lineClass == .ok)
        let result = line.withUnsafeBytes { KeyRing([Self.key]).authenticate($0, decoder.signature) }
        #expect(result == .success(AuthenticatedLine(keyID: "k1", counter: Self.vectors[index].counter)))
    }

    @Test func protocolDocumentShowsTheseVectors() throws {
        var directory = #filePath
        for _ in 0..<3 { directory = String(directory[..<directory.lastIndex(of: "/")!]) }
        let document = try String(contentsOfFile: directory + "/docs/PROTOCOL.md", encoding: .utf8)
        let section = try #require(document.components(separatedBy: "**Test vectors.**").dropFirst().first)
        let block = try #require(section.components(separatedBy: "```json\n").dropFirst().first?.components(separatedBy: "```").first)
        #expect(block.split(separator: "\n").map(String.init) == Self.vectors.map(\.line))
        #expect(section.contains("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"))
    }

    @Test func anyChangedByteBreaksTheCode() {
        let line = Array(Self.vectors[1].line.utf8)
        let ring = KeyRing([Self.key])
        var decoder = JamnetDecoder()
        var samples = [Float](repeating: 0, count: 16)
        var accepted = 0
        // Every byte before the code, changed to another that keeps the line decodable or not.
        for index in 0..<(line.count - LineSignature.trailerLength) {
            var changed = line
            changed[index] = changed[index] == UInt8(ascii: "1") ? UInt8(ascii: "2") : UInt8(ascii: "1")
            _ = decoder.decode(changed, samples: &samples)
            if case .success = changed.withUnsafeBytes({ ring.authenticate($0, decoder.signature) }) { accepted += 1 }
        }
        #expect(accepted == 0)
    }
}
