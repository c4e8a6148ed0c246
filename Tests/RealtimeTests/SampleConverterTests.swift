import Realtime
import Testing

@Suite struct SampleConverterTests {
    static func convert(_ samples: [Float], to format: DeviceSampleFormat) -> [UInt8] {
        var converter = SampleConverter(format: format)
        var bytes = [UInt8](repeating: 0, count: samples.count * format.bytesPerSample)
        samples.withUnsafeBufferPointer { source in bytes.withUnsafeMutableBytes { converter.convert(source, into: $0.baseAddress!) } }
        return bytes
    }

    @Test func fullScaleAndHalfScaleLandOnTheRightCodesAndOverloadsClip() {
        let samples: [Float] = [0, 0.5, -0.5, 1, -1, 1.5, -2]
        let s32 = Self.convert(samples, to: .signed32).withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
        #expect(s32 == [0, 1_073_741_824, -1_073_741_824, Int32.max, -Int32.max, Int32.max, Int32.min])
        let s24 = Self.convert(samples, to: .signed24Packed)
        let decoded = (0..<samples.count).map { index in
            Int32(bitPattern: UInt32(s24[index * 3]) << 8 | UInt32(s24[index * 3 + 1]) << 16 | UInt32(s24[index * 3 + 2]) << 24) >> 8
        }
        #expect(decoded == [0, 4_194_304, -4_194_304, 8_388_607, -8_388_607, 8_388_607, -8_388_608])
        let float = Self.convert(samples, to: .float32).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(float == samples)
    }

    @Test func sixteenBitDitherIsTriangularWithinOneLSBAndUnbiased() {
        // A constant a third of an LSB: undithered it would always round to 0.
        let value = Float(1.0 / 3 / 32_767)
        let codes = Self.convert([Float](repeating: value, count: 100_000), to: .signed16).withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        #expect(Set(codes).isSubset(of: [-1, 0, 1]))
        let mean = Double(codes.reduce(0) { $0 + Int($1) }) / Double(codes.count)
        #expect(abs(mean - 1.0 / 3) < 0.01)
    }
}
