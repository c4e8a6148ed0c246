import CSampleRate

/// A stream's resampler, with a ratio that may change every call: the drift lock's actuator and
/// plain rate conversion in one. `PolyphaseResampler` serves ratios from just under 1 upwards (the
/// drift lock, a 44.1 kHz stream on a 48 kHz device), libsamplerate the rest (downsampling).
///
/// Made on a normal thread (it allocates both engines' state); `reset` and `process` are for the
/// playback thread. Thread: playback (RT). Neither engine allocates or locks there (libsamplerate's
/// `src_process` and `src_reset` neither allocate nor lock).
public final class StreamResampler {
    /// Which resampler does the work.
    public enum Engine: Sendable {
        /// `PolyphaseResampler`: 2.3× as fast as libsamplerate's fastest sinc, with less THD+N at its worst
        /// (BENCHMARKS.md, "Playback: the resampler").
        case polyphase
        /// libsamplerate's `SINC_FASTEST`, for ratios below `PolyphaseResampler.lowestRatio`.
        case libsamplerate

        /// The engine for a stream whose nominal ratio (device rate / stream rate) is `nominalRatio`.
        public init(nominalRatio: Double) {
            self = nominalRatio >= PolyphaseResampler.lowestRatio ? .polyphase : .libsamplerate
        }
    }

    /// libsamplerate's converter: the fastest of its sinc qualities (THD+N below −90 dB).
    public static let converter = Int32(SRC_SINC_FASTEST)

    /// libsamplerate's delay (output frame j at ratio 1 is input frame j − `delay`) and how many
    /// input frames beyond the last output it needs first (its filter's reach). Measured once, on
    /// a ramp, which sinc interpolation reproduces exactly.
    static let (libsamplerateDelay, libsamplerateLookAhead): (Double, Int) = {
        let resampler = StreamResampler(channels: 1)
        resampler.reset(engine: .libsamplerate)
        let input = (0..<4_096).map { Float($0) }
        var output = [Float](repeating: 0, count: 8_192)
        let produced = output.withUnsafeMutableBufferPointer { out in
            resampler.process(input: input, inputFrames: input.count, output: out.baseAddress!, outputFrames: out.count, ratio: 1).produced
        }
        precondition(produced > 2_100, "libsamplerate produced too little to measure its delay")
        return (2_048 - Double(output[2_048]), input.count - produced)
    }()

    /// Interleaved channels.
    public let channels: Int
    /// The engine in use, chosen by the last `reset`.
    public private(set) var engine = Engine.polyphase
    private let polyphase: PolyphaseResampler
    private let state: OpaquePointer
    private var data = SRC_DATA()

    /// Makes a resampler for `channels` interleaved channels (polyphase until reset otherwise).
    public init(channels: Int) {
        self.channels = channels
        polyphase = PolyphaseResampler(channels: channels)
        var error: Int32 = 0
        guard let state = src_new(Self.converter, Int32(channels), &error) else {
            preconditionFailure("libsamplerate: \(String(cString: src_strerror(error)))")
        }
        self.state = state
    }

    deinit { src_delete(state) }

    /// How far the output lags the input, in input frames: output frame j at ratio 1 is input
    /// frame j − `delay`. Thread: any.
    public var delay: Double { engine == .polyphase ? PolyphaseResampler.delay : Self.libsamplerateDelay }
    /// Input frames the engine needs beyond the last output's before it makes that output.
    public var lookAhead: Int { engine == .polyphase ? PolyphaseResampler.lookAhead : Self.libsamplerateLookAhead }

    /// Forgets all history (a re-anchor) and resamples with `engine` from now on.
    /// Thread: playback (RT).
    public func reset(engine: Engine) {
        self.engine = engine
        polyphase.reset()
        src_reset(state)
    }

    /// Resamples at `ratio` (output rate / input rate); returns the input frames consumed and the
    /// output frames made. Both engines ramp the ratio from the previous call's across the block.
    /// Thread: playback (RT).
    public func process(input: UnsafePointer<Float>, inputFrames: Int, output: UnsafeMutablePointer<Float>, outputFrames: Int,
                        ratio: Double) -> (consumed: Int, produced: Int) {
        if engine == .polyphase {
            return polyphase.process(input: input, inputFrames: inputFrames, output: output, outputFrames: outputFrames, ratio: ratio)
        }
        data.data_in = input
        data.data_out = output
        data.input_frames = inputFrames
        data.output_frames = outputFrames
        data.end_of_input = 0
        data.src_ratio = ratio
        guard src_process(state, &data) == 0 else { return (0, 0) }
        return (data.input_frames_used, data.output_frames_gen)
    }
}
