/// A sample format a device may take, in order of preference: jamplay renders `Float` and
/// converts on the way out (TPDF dither to 16 bit).
public enum DeviceSampleFormat: String, CaseIterable, Sendable {
    case float32 = "FLOAT_LE"
    case signed32 = "S32_LE"
    case signed24Packed = "S24_3LE"
    case signed16 = "S16_LE"

    /// Bytes of one sample.
    public var bytesPerSample: Int {
        switch self {
        case .float32, .signed32: 4
        case .signed24Packed: 3
        case .signed16: 2
        }
    }
}
