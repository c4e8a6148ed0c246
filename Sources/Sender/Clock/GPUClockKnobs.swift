import Core

/// Test knobs that turn the device's GPU clock into the one reported on the wire, applied alike to
/// frames and calibration blocks (`--gpu-offset`, `--gpu-skew-ppm`, `--gpu-bits`).
///
/// reported = raw + offset + skew × (raw − origin), then kept to its low `bits` bits. Lavapipe's
/// device clock *is* `CLOCK_MONOTONIC`; these knobs make the receiver's calibration path work.
public struct GPUClockKnobs: Hashable, Sendable {
    /// Added to every GPU time.
    public var offset: Nanoseconds
    /// How much faster the reported clock runs, parts per million.
    public var skewPartsPerMillion: Double
    /// Counter width, 1…64: the wire carries the low bits, so a narrow counter wraps.
    public var bits: Int

    /// Makes knobs; the defaults report the device clock unchanged.
    public init(offset: Nanoseconds = .zero, skewPartsPerMillion: Double = 0, bits: Int = 64) {
        self.offset = offset
        self.skewPartsPerMillion = skewPartsPerMillion
        self.bits = bits
    }

    /// The reported (unwrapped) GPU time of `raw`; `origin` is the raw time the skew pivots on.
    public func reported(raw: Int64, origin: Int64) -> Int64 {
        raw + offset.rawValue + Int64((Double(raw - origin) * skewPartsPerMillion * 1e-6).rounded())
    }

    /// The raw GPU time whose reported time is `reported` (inverse of `reported(raw:origin:)`, ±1 ns).
    public func raw(reported: Int64, origin: Int64) -> Int64 {
        origin + Int64((Double(reported - offset.rawValue - origin) / (1 + skewPartsPerMillion * 1e-6)).rounded())
    }

    /// What the wire carries for an unwrapped reported time: its low `bits` bits.
    public func wire(_ reported: Int64) -> Int64 {
        bits >= 64 ? reported : reported & ((Int64(1) << bits) - 1)
    }
}
