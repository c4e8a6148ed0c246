import Core
import Sender
import Testing

@Suite struct WAVFileTests {
    let samples: [Float] = [0, 0.5, -0.5, 0.25, -1, 0.999]

    @Test func pcmAndFloatFilesReadBackTheirSamples() throws {
        for (bits, float, tolerance) in [(16, false, Float(1) / 32_768), (24, false, Float(1) / 8_388_608), (32, false, Float(1e-7)), (32, true, Float(0))] {
            let bytes = WAVFile.encode(samples: samples, rate: SampleRate(hertz: 44_100), channels: ChannelCount(2), bits: bits, float: float)
            let file = try WAVFile(bytes: bytes)
            #expect(file.sampleRate.hertz == 44_100)
            #expect(file.channels.rawValue == 2)
            #expect(file.frameCount == 3)
            for (read, written) in zip(file.samples, samples) {
                #expect(abs(read - written) <= tolerance, "\(bits)-bit \(float ? "float" : "PCM")")
            }
        }
    }

    @Test func anExtensibleHeaderWithExtraChunksIsRead() throws {
        var bytes = WAVFile.encode(samples: samples, rate: .standard, channels: .mono, bits: 16, float: false)
        // Rewrite fmt as WAVE_FORMAT_EXTENSIBLE (40 bytes, PCM sub-format) and add a LIST chunk before data.
        let fmtBody = Array(bytes[20..<36])
        var extensible = fmtBody
        extensible[0] = 0xFE; extensible[1] = 0xFF
        extensible += [22, 0, 16, 0, 0, 0, 0, 0, 1, 0] + [UInt8](repeating: 0, count: 14)
        let list: [UInt8] = Array("LIST".utf8) + [3, 0, 0, 0, 1, 2, 3, 0]
        bytes = Array(bytes[0..<12]) + Array("fmt ".utf8) + [40, 0, 0, 0] + extensible + list + Array(bytes[36...])
        let file = try WAVFile(bytes: bytes)
        #expect(file.frameCount == samples.count)
        #expect(abs(file.samples[1] - 0.5) < 1e-4)
    }

    @Test func unsupportedOrBrokenFilesAreRefusedClearly() {
        #expect(throws: WAVFile.ReadError.self) { try WAVFile(bytes: Array("RIFF....WAVE".utf8)) }
        #expect(throws: WAVFile.ReadError.self) { try WAVFile(bytes: Array("not a wav file at all".utf8)) }
        var eightBit = WAVFile.encode(samples: samples, rate: .standard, channels: .mono, bits: 16, float: false)
        eightBit[34] = 8
        #expect(throws: WAVFile.ReadError.self) { try WAVFile(bytes: eightBit) }
        #expect(throws: WAVFile.ReadError.self) { try WAVFile(path: "/nonexistent/take.wav") }
    }
}
