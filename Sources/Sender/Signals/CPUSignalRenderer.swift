#if canImport(Glibc)
import Glibc
#endif

/// Renders a frame on the CPU with exactly the shader's arithmetic: the reference the GPU output is
/// tested against, and the renderer of `--clock cpu` (no Vulkan).
public struct CPUSignalRenderer: SignalRenderer {
    private let fileSamples: [Float]

    /// Makes a renderer; `fileSamples` are the interleaved samples of a `file:` signal.
    public init(fileSamples: [Float] = []) {
        self.fileSamples = fileSamples
    }

    /// The CPU has no dispatch clock: the caller reads its own.
    public mutating func render(_ parameters: SignalFrameParameters, into samples: UnsafeMutableBufferPointer<Float>) -> RenderTimes? {
        Self.render(parameters, fileSamples: fileSamples, into: samples)
        return nil
    }

    /// Renders `parameters.frameCount × channels` interleaved samples into `samples`.
    public static func render(_ parameters: SignalFrameParameters, fileSamples: [Float], into samples: UnsafeMutableBufferPointer<Float>) {
        let channels = Int(parameters.channels)
        let frames = Int(parameters.frameCount)
        precondition(samples.count >= frames * channels, "sample buffer too small for the frame")
        for frame in 0..<frames {
            let base = frame * channels
            let index = UInt32(frame)
            switch parameters.kind {
            case .sine, .chirp:
                var phase = parameters.phase &+ index &* parameters.phaseStep
                if parameters.kind == .chirp && index > 0 {
                    phase &+= (index &* (index &- 1) / 2) &* parameters.phaseStepDelta
                }
                let value = parameters.amplitude * phaseSine(phase)
                for channel in 0..<channels { samples[base + channel] = value }
            case .noise:
                let low = UInt32(truncatingIfNeeded: parameters.sampleIndex) &+ index
                let high = UInt32(truncatingIfNeeded: parameters.sampleIndex >> 32) &+ (low < index ? 1 : 0)
                let key = hash(low ^ hash(high ^ parameters.noiseSeed))
                for channel in 0..<channels {
                    let word = hash(key ^ (UInt32(channel) &* 2_654_435_769))
                    let unit = Float(word >> 8) * 0x1p-24
                    samples[base + channel] = parameters.amplitude * (unit * 2 - 1)
                }
            case .impulse:
                let value = parameters.impulseIndices.contains(index) ? parameters.amplitude : 0
                for channel in 0..<channels { samples[base + channel] = value }
            case .file:
                let source = Int((parameters.fileFrame &+ index) % parameters.fileFrames) * channels
                for channel in 0..<channels { samples[base + channel] = fileSamples[source + channel] }
            case .silence:
                for channel in 0..<channels { samples[base + channel] = 0 }
            }
        }
    }

    /// `sin` of a 32-bit fixed-point phase, computed as the shader computes it.
    static func phaseSine(_ phase: UInt32) -> Float {
        let cycles = Float(Int32(bitPattern: phase)) * 0x1p-32
        return sinf(Float(6.2831855) * cycles)
    }

    /// The shader's integer hash.
    static func hash(_ value: UInt32) -> UInt32 {
        let state = value &* 747_796_405 &+ 2_891_336_453
        let word = ((state >> ((state >> 28) &+ 4)) ^ state) &* 277_803_737
        return (word >> 22) ^ word
    }
}
