/// What the signal shader needs to render one frame: its push constants, field for field.
///
/// `SignalPlanner` fills it from the stream's position; the GPU renderer pushes `words` and the
/// CPU renderer (`CPUSignalRenderer`) reads the same fields, so both render the same samples.
public struct SignalFrameParameters: Hashable, Sendable {
    /// The shader's signal codes (`SIGNAL_*` in `signal.comp`).
    public enum Kind: UInt32, Sendable {
        case silence = 0, sine, chirp, noise, impulse, file
    }

    /// The most impulses one frame can carry (`MAX_IMPULSES` in the shader).
    public static let maximumImpulses = 16

    /// Which signal.
    public var kind: Kind = .silence
    /// Sample frames in this message.
    public var frameCount: UInt32 = 0
    /// Interleaved channels.
    public var channels: UInt32 = 1
    /// Peak value (sine, chirp, noise, impulse).
    public var amplitude: Float = 0
    /// Sine/chirp phase of the first sample frame, 2^32 = one cycle.
    public var phase: UInt32 = 0
    /// Phase advance per sample frame at the first sample frame.
    public var phaseStep: UInt32 = 0
    /// Chirp: growth of `phaseStep` per sample frame (two's complement for a falling sweep).
    public var phaseStepDelta: UInt32 = 0
    /// Noise seed.
    public var noiseSeed: UInt32 = 0
    /// The stream's index of the first sample frame (noise is a function of it).
    public var sampleIndex: UInt64 = 0
    /// File: source frame of the first sample frame.
    public var fileFrame: UInt32 = 0
    /// File: frames in the source; it loops.
    public var fileFrames: UInt32 = 1
    /// Impulse: sample frames within this message that are full scale, at most `maximumImpulses`.
    public var impulseIndices: [UInt32] = []

    /// Makes empty parameters (silence, no frames).
    public init() {}

    /// The push-constant block as the shader lays it out (std430: 4-byte scalars in order).
    public var words: [UInt32] {
        var words: [UInt32] = [
            kind.rawValue, frameCount, channels, amplitude.bitPattern, phase, phaseStep, phaseStepDelta, noiseSeed,
            UInt32(truncatingIfNeeded: sampleIndex), UInt32(truncatingIfNeeded: sampleIndex >> 32), fileFrame, fileFrames,
            UInt32(impulseIndices.count),
        ]
        words += impulseIndices.prefix(Self.maximumImpulses)
        words += repeatElement(0, count: Self.maximumImpulses - min(impulseIndices.count, Self.maximumImpulses))
        return words
    }
}
