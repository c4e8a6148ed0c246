import Core
import Foundation

/// A WAV file read whole into interleaved `Float` samples: 16-, 24- and 32-bit PCM and 32-bit float,
/// plain or `WAVE_FORMAT_EXTENSIBLE`.
public struct WAVFile: Sendable {
    /// Why a file could not be read.
    public struct ReadError: Error, CustomStringConvertible {
        /// What is wrong, with the path.
        public let description: String
    }

    /// The file's sample rate.
    public let sampleRate: SampleRate
    /// The file's channel count.
    public let channels: ChannelCount
    /// Interleaved samples in [−1, 1].
    public let samples: [Float]

    /// Sample frames in the file.
    public var frameCount: Int { samples.count / channels.rawValue }

    /// Reads `path`.
    public init(path: String) throws(ReadError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw ReadError(description: "\(path): cannot read the file") }
        do {
            try self.init(bytes: [UInt8](data))
        } catch {
            throw ReadError(description: "\(path): \(error.description)")
        }
    }

    /// Parses a whole WAV file.
    public init(bytes: [UInt8]) throws(ReadError) {
        func word(_ offset: Int) -> UInt32 {
            UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        }
        func half(_ offset: Int) -> Int { Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 }
        func tag(_ offset: Int) -> String { String(decoding: bytes[offset..<offset + 4], as: UTF8.self) }
        guard bytes.count >= 12, tag(0) == "RIFF", tag(8) == "WAVE" else { throw ReadError(description: "not a RIFF/WAVE file") }

        var format: (code: Int, channels: Int, rate: Int, bits: Int)?
        var data: Range<Int>?
        var offset = 12
        while offset + 8 <= bytes.count {
            let size = Int(word(offset + 4))
            let body = offset + 8
            let end = min(body + size, bytes.count)
            switch tag(offset) {
            case "fmt ":
                guard size >= 16, body + 16 <= bytes.count else { throw ReadError(description: "fmt chunk too short") }
                var code = half(body)
                if code == 0xFFFE {
                    // WAVE_FORMAT_EXTENSIBLE: the real format code opens the sub-format GUID.
                    guard size >= 40, body + 26 <= bytes.count else { throw ReadError(description: "extensible fmt chunk too short") }
                    code = half(body + 24)
                }
                format = (code, half(body + 2), Int(word(body + 4)), half(body + 14))
            case "data":
                data = body..<end
            default:
                break
            }
            offset = body + size + (size & 1)  // chunks are padded to even sizes
        }
        guard let format else { throw ReadError(description: "no fmt chunk") }
        guard let data else { throw ReadError(description: "no data chunk") }
        guard ChannelCount.supported.contains(format.channels) else { throw ReadError(description: "\(format.channels) channels (1…64 supported)") }
        guard SampleRate.supported.contains(format.rate) else { throw ReadError(description: "sample rate \(format.rate) Hz not supported") }

        let bytesPerSample: Int
        let convert: (Int) -> Float
        switch (format.code, format.bits) {
        case (1, 16):
            bytesPerSample = 2
            convert = { Float(Int16(bitPattern: UInt16(half($0)))) / 32_768 }
        case (1, 24):
            bytesPerSample = 3
            convert = { offset in
                let value = Int32(bitPattern: UInt32(bytes[offset]) << 8 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 24) >> 8
                return Float(value) / 8_388_608
            }
        case (1, 32):
            bytesPerSample = 4
            convert = { Float(Int32(bitPattern: word($0))) / 2_147_483_648 }
        case (3, 32):
            bytesPerSample = 4
            convert = { offset in
                let value = Float(bitPattern: word(offset))
                return value.isFinite ? min(max(value, -1), 1) : 0
            }
        default:
            throw ReadError(description: "format \(format.code) with \(format.bits) bits; supported: 16/24/32-bit PCM and 32-bit float")
        }
        let frameBytes = bytesPerSample * format.channels
        let frames = data.count / frameBytes
        var samples = [Float]()
        samples.reserveCapacity(frames * format.channels)
        for index in 0..<frames * format.channels {
            samples.append(convert(data.lowerBound + index * bytesPerSample))
        }
        sampleRate = SampleRate(hertz: format.rate)
        channels = ChannelCount(format.channels)
        self.samples = samples
    }

    /// A WAV file's bytes: 32-bit float, or 16/24/32-bit PCM (rounded, clipped). For tests and `--record`.
    public static func encode(samples: [Float], rate: SampleRate, channels: ChannelCount, bits: Int = 32, float: Bool = true) -> [UInt8] {
        var body: [UInt8] = []
        func append(_ value: UInt32, bytes count: Int) { for index in 0..<count { body.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(index)))) } }
        let bytesPerSample = bits / 8
        for sample in samples {
            if float {
                append(sample.bitPattern, bytes: 4)
            } else {
                let scale = Double(Int64(1) << (bits - 1))
                let value = max(min((Double(sample) * scale).rounded(), scale - 1), -scale)
                append(UInt32(truncatingIfNeeded: Int64(value)), bytes: bytesPerSample)
            }
        }
        var header: [UInt8] = []
        func put(_ text: String) { header += Array(text.utf8) }
        func put(_ value: UInt32, bytes count: Int) { for index in 0..<count { header.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(index)))) } }
        put("RIFF"); put(UInt32(36 + body.count), bytes: 4); put("WAVE")
        put("fmt "); put(16, bytes: 4); put(float ? 3 : 1, bytes: 2); put(UInt32(channels.rawValue), bytes: 2)
        put(UInt32(rate.hertz), bytes: 4); put(UInt32(rate.hertz * channels.rawValue * bytesPerSample), bytes: 4)
        put(UInt32(channels.rawValue * bytesPerSample), bytes: 2); put(UInt32(bits), bytes: 2)
        put("data"); put(UInt32(body.count), bytes: 4)
        return header + body
    }
}
