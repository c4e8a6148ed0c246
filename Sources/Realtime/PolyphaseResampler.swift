import Glibc

/// A Kaiser-windowed sinc resampler for output/input ratios from just under 1 upwards: the drift
/// lock's actuator (a ratio within ±0.2 % of 1) and upsampling (a 44.1 kHz stream on a 48 kHz device).
///
/// The filter (40 taps, Kaiser β 10, cut off at the input's Nyquist frequency) is tabulated at 512
/// fractional positions, and each output blends the two nearest; the input is kept one plane per
/// channel so that every output is one vectorised dot product per channel. Below `lowestRatio`
/// (downsampling) what lies between the output's Nyquist frequency and its cut-off would alias: use
/// libsamplerate there.
/// The ratio may change every call; it is ramped from the previous call's across the block, as
/// libsamplerate does, so the two are interchangeable.
///
/// Made on a normal thread (it allocates its planes); `process` and `reset` are for the playback
/// thread. Thread: playback (RT). Non-allocating, lock-free, no existentials.
public final class PolyphaseResampler {
    /// The lowest ratio it serves: 1 less the drift lock's authority and a margin. Below it the
    /// output's Nyquist frequency falls under the filter's cut-off.
    public static let lowestRatio = 0.99
    /// Taps of the filter (even, a multiple of the vector width).
    static let taps = 40
    /// Fractional positions tabulated between two input frames: 2^`phaseBits`.
    static let phaseBits = 9
    static let phases = 1 << phaseBits
    /// Kaiser window's β: ~100 dB stopband for 40 taps.
    static let kaiserBeta = 10.0
    private static let half = taps / 2
    private static let vector = 8
    /// Input frames an output needs beyond the frame it falls on (the filter's reach forward).
    public static let lookAhead = half
    /// The output lags the input by nothing: output frame j at ratio 1 is input frame j exactly
    /// (the filter's phase 0 is a unit impulse: a windowed sinc is zero at every other frame).
    public static let delay = 0.0

    /// `phases + 1` rows of `taps` coefficients: row p is the filter at fraction p / phases, each
    /// row scaled to sum to 1 so that no phase changes the level. Built once, then only read.
    nonisolated(unsafe) private static let table: UnsafeMutablePointer<Float> = {
        let table = UnsafeMutablePointer<Float>.allocate(capacity: (phases + 1) * taps)
        for phase in 0...phases {
            let fraction = Double(phase) / Double(phases)
            let row = (0..<taps).map { tap -> Double in
                // Tap k multiplies input frame (index − half + 1 + k); the output lies at index + fraction.
                let x = Double(tap - half + 1) - fraction
                let sinc = x == x.rounded() ? (x == 0 ? 1 : 0) : sin(Double.pi * x) / (Double.pi * x)  // exact zeros at the frames
                let edge = x / Double(half)
                let window = abs(edge) >= 1 ? 0 : besselI0(kaiserBeta * (1 - edge * edge).squareRoot()) / besselI0(kaiserBeta)
                return sinc * window
            }
            let sum = row.reduce(0, +)
            for (tap, value) in row.enumerated() { table[phase * taps + tap] = Float(value / sum) }
        }
        return table
    }()

    /// Interleaved channels of input and output.
    public let channels: Int
    /// Frames each plane holds: the filter's history plus what one call takes in.
    private let capacity: Int
    /// One plane of `capacity` frames per channel.
    private let planes: UnsafeMutablePointer<Float>
    /// `table`, read once here: the static's lazy-initialisation check stays off the render path.
    private let rows: UnsafePointer<Float>
    /// The current output's coefficients (two table rows blended).
    private let blended: UnsafeMutablePointer<Float>
    /// Frames held in each plane.
    private var buffered = 0
    /// Where the next output falls: after plane frame `index`, by `biasedFraction` − 1. Kept in
    /// [1, 2), where a double's significand bits are the fraction itself: the phase and weight are
    /// read from them without a conversion (and its range checks) per output.
    private var index = 0
    private var biasedFraction = 1.0
    private var lastRatio = 0.0

    /// Makes a resampler for `channels` interleaved channels that takes in up to `capacity` frames
    /// at a time (more are taken by later rounds of the same call).
    public init(channels: Int, capacity: Int = 4_096) {
        precondition(channels > 0 && capacity > Self.taps)
        self.channels = channels
        self.capacity = capacity
        planes = .allocate(capacity: channels * capacity)
        planes.initialize(repeating: 0, count: channels * capacity)
        blended = .allocate(capacity: Self.taps)
        blended.initialize(repeating: 0, count: Self.taps)
        rows = UnsafePointer(Self.table)  // built here, off the playback thread
        // One output here, so that what the runtime makes on first use (the SIMD types' metadata,
        // in unoptimised builds) is not made on the playback thread; from a reset state, whose
        // history of silence the filter reads before the first frame.
        reset()
        let silence = [Float](repeating: 0, count: (Self.taps + 1) * channels)
        var output = [Float](repeating: 0, count: channels)
        _ = process(input: silence, inputFrames: Self.taps + 1, output: &output, outputFrames: 1, ratio: 1)
        reset()
    }

    deinit {
        planes.deallocate()
        blended.deallocate()
    }

    /// Forgets all history: the next input frame is heard as the next output (after silence).
    /// Thread: playback (RT).
    public func reset() {
        // Zeros before the first input frame, so that it is the first output.
        buffered = Self.half - 1
        for channel in 0..<channels { (planes + channel * capacity).update(repeating: 0, count: buffered) }
        index = buffered
        biasedFraction = 1
        lastRatio = 0
    }

    /// Resamples at `ratio` (output rate / input rate, at least `lowestRatio`), ramped from the
    /// previous call's across the block; returns the input frames taken in and the output frames made.
    /// Thread: playback (RT).
    public func process(input: UnsafePointer<Float>, inputFrames: Int, output: UnsafeMutablePointer<Float>, outputFrames: Int,
                        ratio requested: Double) -> (consumed: Int, produced: Int) {
        // A ratio far below any it serves (or NaN) would stall or race the position: held at ½.
        let ratio = requested >= 0.5 ? requested : 0.5
        if lastRatio == 0 { lastRatio = ratio }
        let startRatio = lastRatio
        let ratioStep = (ratio - startRatio) / Double(max(outputFrames, 1))
        var consumed = 0, produced = 0
        while true {
            let taken = take(input + consumed * channels, frames: min(inputFrames - consumed, capacity - buffered))
            consumed += taken
            let before = produced
            while produced < outputFrames {
                guard index &+ Self.half < buffered else { break }
                render(into: output + produced &* channels)
                produced &+= 1
                biasedFraction += 1 / (startRatio + ratioStep * Double(produced))
                // A step is 2 frames at most (the ratio is at least ½).
                while biasedFraction >= 2 {
                    biasedFraction -= 1
                    index &+= 1
                }
            }
            dropHistory()
            if produced == outputFrames || (taken == 0 && produced == before) { break }
        }
        lastRatio = startRatio + ratioStep * Double(produced)
        return (consumed, produced)
    }

    /// Copies `frames` interleaved frames onto the end of the planes.
    private func take(_ input: UnsafePointer<Float>, frames: Int) -> Int {
        guard frames > 0 else { return 0 }
        if channels == 2 {
            // Stereo, the common stream: four frames at a time, split into the two planes.
            let left = UnsafeMutableRawPointer(planes + buffered), right = UnsafeMutableRawPointer(planes + (capacity &+ buffered))
            let source = UnsafeRawPointer(input)
            var frame = 0
            while frame &+ 4 <= frames {
                let four = source.loadUnaligned(fromByteOffset: frame &* 8, as: SIMD8<Float>.self)
                left.storeBytes(of: SIMD4(four[0], four[2], four[4], four[6]), toByteOffset: frame &* 4, as: SIMD4<Float>.self)
                right.storeBytes(of: SIMD4(four[1], four[3], four[5], four[7]), toByteOffset: frame &* 4, as: SIMD4<Float>.self)
                frame &+= 4
            }
            while frame < frames {
                planes[buffered &+ frame] = input[frame &* 2]
                planes[capacity &+ buffered &+ frame] = input[frame &* 2 &+ 1]
                frame &+= 1
            }
            buffered += frames
            return frames
        }
        for channel in 0..<channels {
            let plane = planes + channel * capacity + buffered
            for frame in 0..<frames { plane[frame] = input[frame * channels + channel] }
        }
        buffered += frames
        return frames
    }

    /// Writes the output that falls at the position (`index`, `biasedFraction`), one sample per channel.
    @inline(always)
    private func render(into output: UnsafeMutablePointer<Float>) {
        // The fraction's top bits choose the table's row, the rest weigh it against the next.
        let significand = biasedFraction.bitPattern & 0xF_FFFF_FFFF_FFFF
        let weightBits = 52 - Self.phaseBits
        let phase = Int(truncatingIfNeeded: significand >> UInt64(weightBits))
        let weight = Float(Int64(bitPattern: significand & (1 << UInt64(weightBits) - 1))) * Float(sign: .plus, exponent: -weightBits, significand: 1)
        let row = UnsafeRawPointer(rows + phase &* Self.taps)
        let next = row + Self.taps * MemoryLayout<Float>.stride
        let coefficients = UnsafeMutableRawPointer(blended)
        for offset in stride(from: 0, to: Self.taps * MemoryLayout<Float>.stride, by: Self.vector * MemoryLayout<Float>.stride) {
            let a = row.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            let b = next.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            coefficients.storeBytes(of: a + (b - a) * weight, toByteOffset: offset, as: SIMD8<Float>.self)
        }
        let first = index &- Self.half &+ 1
        for channel in 0..<channels {
            let samples = UnsafeRawPointer(planes + (channel &* capacity &+ first))
            var sum = SIMD8<Float>()
            for offset in stride(from: 0, to: Self.taps * MemoryLayout<Float>.stride, by: Self.vector * MemoryLayout<Float>.stride) {
                // Not `addProduct`: without FMA in the baseline x86-64 target it calls libm's fmaf per lane.
                sum += coefficients.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                    * samples.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            }
            output[channel] = (sum.lowHalf + sum.highHalf).sum()
        }
    }

    /// Drops the frames no later output needs, so the planes never fill with history.
    private func dropHistory() {
        let drop = index - Self.half + 1
        guard drop > 0 else { return }
        let kept = buffered - drop
        for channel in 0..<channels {
            let plane = planes + channel * capacity
            plane.update(from: plane + drop, count: kept)
        }
        buffered = kept
        index -= drop
    }

    /// The modified Bessel function of the first kind, order 0 (its power series; the Kaiser window).
    private static func besselI0(_ x: Double) -> Double {
        var sum = 1.0, term = 1.0, k = 1.0
        while term > sum * 1e-17 {
            term *= (x / (2 * k)) * (x / (2 * k))
            sum += term
            k += 1
        }
        return sum
    }
}
