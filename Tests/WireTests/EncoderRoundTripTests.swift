import Core
import Testing
import Wire

/// encode → decode is the identity; the output is compact with shortest floats.
@Suite struct EncoderRoundTripTests {
    @Test func randomFramesSurviveEncodeThenDecode() throws {
        var random = SeededRandom(seed: 10)
        var decoder = JamnetDecoder()
        let encoder = JamnetEncoder()
        var buffer = [Float](repeating: 0, count: 2048)
        for _ in 0..<3000 {
            let channels = Int.random(in: 1...8, using: &random)
            let samples = (0..<(channels * Int.random(in: 0...64, using: &random))).map { _ in Self.randomSample(&random) }
            let header = AudioFrameHeader(
                version: ProtocolVersion(major: 1, minor: Int.random(in: 0...20, using: &random)),
                timestamp: Bool.random(using: &random) ? .gpu(Int64.random(in: Self.timestamps, using: &random)) : .cpu(Int64.random(in: Self.timestamps, using: &random)),
                sessionID: Self.randomString(&random), streamID: Self.randomString(&random),
                sequence: Bool.random(using: &random) ? UInt64.random(in: 0 ... .max, using: &random) : nil,
                sampleRate: SampleRate(hertz: Int.random(in: SampleRate.supported, using: &random)),
                channelCount: ChannelCount(channels))
            var line: [UInt8] = []
            try encoder.encode(header, samples: samples, into: &line)
            let decoded = decoder.decode(line, samples: &buffer)
            #expect(decoded == .audioFrame(header, sampleCount: samples.count, clippedSampleCount: 0), "\(String(decoding: line, as: UTF8.self))")
            #expect(buffer[..<samples.count].map(\.bitPattern) == samples.map(\.bitPattern))
        }
    }

    @Test func randomCalibrationBlocksSurviveEncodeThenDecode() throws {
        var random = SeededRandom(seed: 11)
        var decoder = JamnetDecoder()
        for _ in 0..<3000 {
            // Units and values within ±2^61 ns once in nanoseconds, so that their offset is within 2^62 too.
            let unit = [TimestampUnit.nanoseconds, .microseconds, .milliseconds, .ticks(periodNanoseconds: Double.random(in: 0.01...1000, using: &random))]
                .randomElement(using: &random)!
            let half = Int64(1) << 61, scale = Int64(unit.integerNanoseconds ?? 1_000)
            let bits = Bool.random(using: &random) ? 64 : Int.random(in: 16...62, using: &random)
            let gpu = bits == 64 ? Int64.random(in: -half ... half, using: &random) / scale
                : Int64.random(in: 0...min(Int64.max >> (63 - bits), half / scale), using: &random)
            let block = SyncCalibrationBlock(
                version: ProtocolVersion(major: 1, minor: Int.random(in: 0...3, using: &random)),
                timestampCPU: Int64.random(in: -half ... half, using: &random) / Int64(unit.integerNanoseconds ?? 1), timestampGPU: gpu,
                unit: unit, timestampBits: bits,
                maxDeviation: Bool.random(using: &random) ? Double.random(in: 0...unit.oneSecondOfDeviation, using: &random) : nil,
                clockBase: Self.randomString(&random), sessionID: Self.randomString(&random),
                origin: SyncCalibrationBlock.Origin.allCases.randomElement(using: &random)!)
            var line: [UInt8] = []
            try JamnetEncoder().encode(block, into: &line)
            var none: [Float] = []
            #expect(decoder.decode(line, samples: &none) == .syncCalibration(block), "\(String(decoding: line, as: UTF8.self))")
        }
    }

    @Test func outputIsCompactWithShortestFloats() throws {
        var line: [UInt8] = []
        let header = AudioFrameHeader(timestamp: .gpu(1_701_234_600_000), sessionID: "s", streamID: "m", sequence: 3, channelCount: ChannelCount(2))
        try JamnetEncoder().encode(header, samples: [0.1, -0.5, .leastNonzeroMagnitude, 0.33333334] as [Float], into: &line)
        #expect(String(decoding: line, as: UTF8.self)
            == #"{"type":"jdat","version":"jamnet/1.0","timestamp_gpu":1701234600000,"session_id":"s","stream_id":"m","seq":3,"sample_rate":48000,"channels":2,"payload":[0.1,-0.5,1e-45,0.33333334]}"#)
        line = []
        try JamnetEncoder().encode(SyncCalibrationBlock(timestampCPU: 1_701_234_567_890, timestampGPU: 1_701_234_580_056), into: &line)
        #expect(String(decoding: line, as: UTF8.self)
            == #"{"type":"sync_calibration_block","version":"jamnet/1.0","timestamp_cpu":1701234567890,"timestamp_gpu":1701234580056,"timestamp_unit":"ns","origin":"sender"}"#)
    }

    @Test func idsOfTheFullLengthSurviveEvenWhenEscapingLengthensThem() throws {
        // Found by the fuzzer: 200 control characters are 200 bytes, but 1200 once escaped.
        let id = String(repeating: "\u{1}\u{C}", count: 100)
        var line: [UInt8] = []
        let header = AudioFrameHeader(timestamp: .cpu(0), sessionID: id, streamID: id)
        try JamnetEncoder().encode(header, samples: [] as [Float], into: &line)
        var decoder = JamnetDecoder()
        var samples: [Float] = []
        #expect(decoder.decode(line, samples: &samples) == .audioFrame(header, sampleCount: 0, clippedSampleCount: 0))
    }

    @Test func controlCharactersInStringsAreEscaped() throws {
        var line: [UInt8] = []
        try JamnetEncoder().encode(AudioFrameHeader(timestamp: .cpu(0), sessionID: "a\u{1}\t\n\"\\é"), samples: [] as [Float], into: &line)
        #expect(String(decoding: line, as: UTF8.self).contains(#""session_id":"a\u0001\t\n\"\\é""#))
    }

    @Test func theEncoderRefusesWhatTheDecoderWouldReject() {
        let encoder = JamnetEncoder()
        var line: [UInt8] = []
        #expect(throws: JamnetEncodingError.nonFiniteSample(index: 1)) { try encoder.encode(AudioFrameHeader(timestamp: .cpu(0)), samples: [0, .nan] as [Float], into: &line) }
        #expect(throws: JamnetEncodingError.outOfRange(.payload)) { try encoder.encode(AudioFrameHeader(timestamp: .cpu(0), channelCount: ChannelCount(2)), samples: [0] as [Float], into: &line) }
        #expect(throws: JamnetEncodingError.unsupportedVersion(.init(major: 2, minor: 0))) { try encoder.encode(AudioFrameHeader(version: .init(major: 2, minor: 0), timestamp: .cpu(0)), samples: [] as [Float], into: &line) }
        #expect(throws: JamnetEncodingError.outOfRange(.timestampGPU)) { try encoder.encode(SyncCalibrationBlock(timestampCPU: 0, timestampGPU: 65_536, timestampBits: 16), into: &line) }
        #expect(throws: JamnetEncodingError.outOfRange(.timestampBits)) { try encoder.encode(SyncCalibrationBlock(timestampCPU: 0, timestampGPU: 1, timestampBits: 8), into: &line) }
        #expect(throws: JamnetEncodingError.outOfRange(.timestampCPU)) { try encoder.encode(SyncCalibrationBlock(timestampCPU: .max, timestampGPU: 1), into: &line) }
        #expect(throws: JamnetEncodingError.outOfRange(.maxDeviation)) { try encoder.encode(SyncCalibrationBlock(timestampCPU: 0, timestampGPU: 1, maxDeviation: 1e200), into: &line) }
        #expect(throws: JamnetEncodingError.outOfRange(.timestampGPU)) { try encoder.encode(AudioFrameHeader(timestamp: .gpu(.min)), samples: [] as [Float], into: &line) }
        #expect(throws: JamnetEncodingError.outOfRange(.sessionID)) { try encoder.encode(AudioFrameHeader(timestamp: .cpu(0), sessionID: String(repeating: "x", count: 257)), samples: [] as [Float], into: &line) }
        #expect(line.isEmpty)
    }

    /// Mostly audio-range values, with the awkward ones mixed in.
    /// The timestamps jamnet carries: within ±(2^62 − 1).
    private static let timestamps = -(Int64(1) << 62) + 1 ... (Int64(1) << 62) - 1

    private static func randomSample(_ random: inout SeededRandom) -> Float {
        switch Int.random(in: 0..<10, using: &random) {
        case 0: return [0, -0.0, 1, -1, .leastNonzeroMagnitude, -.leastNormalMagnitude, 1e-10].randomElement(using: &random)!
        case 1: return Float(bitPattern: UInt32.random(in: 0..<0x3F80_0001, using: &random)) * (Bool.random(using: &random) ? 1 : -1)
        default: return Float.random(in: -1...1, using: &random)
        }
    }

    private static func randomString(_ random: inout SeededRandom) -> String? {
        guard Bool.random(using: &random) else { return nil }
        let alphabet = Array("abcXYZ019-_ \"\\/\u{0}\u{1F}\u{7F}é✓😀")
        return String((0..<Int.random(in: 0...20, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
    }
}
