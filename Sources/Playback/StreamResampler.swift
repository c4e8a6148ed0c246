import CSampleRate

/// libsamplerate with a ratio that may change every call: the drift lock's actuator and plain
/// rate conversion (a 44.1 kHz stream on a 48 kHz device) in one.
///
/// Made on a normal thread (it allocates its state); `process` is for the playback thread
/// (Thread: playback (RT). libsamplerate's `src_process` neither allocates nor locks).
public final class StreamResampler {
    /// The converter used: the sinc quality that keeps THD+N below −90 dB at ≤ 1 % of a core per
    /// stream (BENCHMARKS.md, "Playback").
    public static let converter = Int32(SRC_SINC_FASTEST)

    /// How far the output lags the input, in input frames (output frame j at ratio 1 is input
    /// frame j − `delay`), and how many input frames beyond the last output it needs first (its
    /// filter's reach). Measured once, on a ramp, which sinc interpolation reproduces exactly.
    public static let (delay, lookAhead): (Double, Int) = {
        let resampler = StreamResampler(channels: 1)
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
    private let state: OpaquePointer
    private var data = SRC_DATA()

    /// Makes a resampler for `channels` interleaved channels.
    public init(channels: Int) {
        self.channels = channels
        var error: Int32 = 0
        guard let state = src_new(Self.converter, Int32(channels), &error) else {
            preconditionFailure("libsamplerate: \(String(cString: src_strerror(error)))")
        }
        self.state = state
    }

    deinit { src_delete(state) }

    /// Forgets all history (a re-anchor).
    public func reset() { src_reset(state) }

    /// Resamples at `ratio` (output rate / input rate); returns the input frames consumed and the
    /// output frames made. libsamplerate ramps the ratio from the previous call's across the block.
    public func process(input: UnsafePointer<Float>, inputFrames: Int, output: UnsafeMutablePointer<Float>, outputFrames: Int,
                        ratio: Double) -> (consumed: Int, produced: Int) {
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
