import Core

/// Converts the mix (`Float`, nominally ±1) to the device's format: clipped, rounded, and for
/// 16 bit with TPDF dither (the sum of two uniform values of ±½ LSB), so the quantization error
/// is noise independent of the signal rather than distortion.
///
/// Thread: playback (RT). Lock-free, non-allocating.
public struct SampleConverter: Sendable {
    /// The device's format.
    public let format: DeviceSampleFormat
    private var random = SeededRandomNumberGenerator(seed: 0x7D17_4E12)

    /// Makes a converter to `format`.
    public init(format: DeviceSampleFormat) {
        self.format = format
        // The integer conversions instantiate their witness tables on first use, which allocates
        // in unoptimized builds: one sample converted here, off the playback thread, does it.
        var warm = self, scratch: Int64 = 0, sample: Float = 0
        withUnsafeMutableBytes(of: &scratch) { bytes in
            withUnsafePointer(to: &sample) { warm.convert(UnsafeBufferPointer(start: $0, count: 1), into: bytes.baseAddress!) }
        }
    }

    /// Writes `samples` to `output` (which holds `samples.count × format.bytesPerSample` bytes).
    public mutating func convert(_ samples: UnsafeBufferPointer<Float>, into output: UnsafeMutableRawPointer) {
        switch format {
        case .float32:
            output.copyMemory(from: samples.baseAddress!, byteCount: samples.count * 4)
        case .signed32:
            let out = output.assumingMemoryBound(to: Int32.self)
            for index in 0..<samples.count {
                out[index] = Int32(littleEndian: Int32(Self.scaled(samples[index], 2_147_483_647.0)))
            }
        case .signed24Packed:
            let out = output.assumingMemoryBound(to: UInt8.self)
            for index in 0..<samples.count {
                let value = UInt32(bitPattern: Int32(Self.scaled(samples[index], 8_388_607.0)))
                out[index * 3] = UInt8(truncatingIfNeeded: value)
                out[index * 3 + 1] = UInt8(truncatingIfNeeded: value >> 8)
                out[index * 3 + 2] = UInt8(truncatingIfNeeded: value >> 16)
            }
        case .signed16:
            let out = output.assumingMemoryBound(to: Int16.self)
            for index in 0..<samples.count {
                let dither = uniform() + uniform()  // triangular in ±1 LSB
                out[index] = Int16(littleEndian: Int16(Self.scaled(samples[index], 32_767.0, dither: dither)))
            }
        }
    }

    /// `sample × fullScale` plus dither (in LSBs), rounded and clipped to the format's range.
    @inline(__always) static func scaled(_ sample: Float, _ fullScale: Double, dither: Double = 0) -> Int64 {
        let value = (Double(sample) * fullScale + dither).rounded()
        return Int64(max(-fullScale - 1, min(fullScale, value.isNaN ? 0 : value)))
    }

    /// Uniform in [−½, ½).
    @inline(__always) private mutating func uniform() -> Double {
        Double(random.next() >> 11) * 0x1p-53 - 0.5
    }
}
