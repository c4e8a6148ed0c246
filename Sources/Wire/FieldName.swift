/// Every field jamnet/1.x defines, across all message types; the decoder reads them in one pass.
public enum FieldName: UInt8, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case type, version
    case payload, timestampGPU, timestampCPU, sessionID, streamID, seq, sampleRate, channels
    case timestampUnit, tickPeriodNanoseconds, timestampBits, maxDeviation, clockBase, origin

    /// The key as it appears on the wire.
    public var wireName: StaticString {
        switch self {
        case .type: "type"
        case .version: "version"
        case .payload: "payload"
        case .timestampGPU: "timestamp_gpu"
        case .timestampCPU: "timestamp_cpu"
        case .sessionID: "session_id"
        case .streamID: "stream_id"
        case .seq: "seq"
        case .sampleRate: "sample_rate"
        case .channels: "channels"
        case .timestampUnit: "timestamp_unit"
        case .tickPeriodNanoseconds: "tick_period_ns"
        case .timestampBits: "timestamp_bits"
        case .maxDeviation: "max_deviation"
        case .clockBase: "clock_base"
        case .origin: "origin"
        }
    }

    /// The wire name.
    public var description: String { wireName.description }

    /// The field named by `length` bytes at `bytes`, if it is one jamnet defines.
    static func matching(_ bytes: UnsafePointer<UInt8>, count length: Int) -> FieldName? {
        // Integer ranges only: `allCases` builds an array on every call, and unspecialized (debug)
        // iteration of other sequences allocates, which the allocation test would see.
        nextCandidate: for rawValue in 0..<Int(FieldName.origin.rawValue) + 1 {
            let field = FieldName(rawValue: UInt8(rawValue))!
            let name = field.wireName
            guard name.utf8CodeUnitCount == length else { continue }
            for index in 0..<length where bytes[index] != name.utf8Start[index] { continue nextCandidate }
            return field
        }
        return nil
    }
}
