/// Every field jamnet/1.x defines, across all message types; the decoder reads them in one pass.
public enum FieldName: UInt8, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case type, version
    case payload, timestampGPU, timestampCPU, sessionID, streamID, seq, sampleRate, channels
    case timestampUnit, tickPeriodNanoseconds, timestampBits, maxDeviation, clockBase, origin
    case probeID, timestampProbeSent, timestampProbeReceived, timestampEchoSent, challenge
    case keyID, authCounter, mac

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
        case .probeID: "probe_id"
        case .timestampProbeSent: "timestamp_probe_sent"
        case .timestampProbeReceived: "timestamp_probe_received"
        case .timestampEchoSent: "timestamp_echo_sent"
        case .challenge: "challenge"
        case .keyID: "key_id"
        case .authCounter: "auth_counter"
        case .mac: "mac"
        }
    }

    /// The wire name.
    public var description: String { wireName.description }

    /// Every field, built once: `allCases` builds a new array on every call.
    static let all = allCases

    /// The field named by `length` bytes at `bytes`, if it is one jamnet defines.
    static func matching(_ bytes: UnsafePointer<UInt8>, count length: Int) -> FieldName? {
        // By index: unspecialized (debug) iteration of an array allocates, which the allocation test would see.
        nextCandidate: for index in 0..<all.count {
            let field = all[index]
            let name = field.wireName
            guard name.utf8CodeUnitCount == length else { continue }
            for index in 0..<length where bytes[index] != name.utf8Start[index] { continue nextCandidate }
            return field
        }
        return nil
    }
}
