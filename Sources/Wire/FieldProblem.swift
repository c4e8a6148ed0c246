/// Why a field's value is invalid (the detail of an `invalid-field` line).
public enum FieldProblem: Hashable, Sendable, CustomStringConvertible {
    /// The key appears twice in one object.
    case duplicate
    /// A required field is absent.
    case missing
    case notAString
    case notAnArray
    /// A fraction or exponent where an integer token is required.
    case notAnInteger
    case notANumber
    /// Outside the field's range (`allowed` says which).
    case outOfRange(allowed: AllowedValues)
    /// Longer than `limit` bytes.
    case tooLong(limit: Int)
    /// Not one of the values the field takes (`allowed` lists them).
    case unknownValue(allowed: AllowedValues)
    /// `version` is not `jamnet/MAJOR.MINOR`.
    case malformedVersion
    /// Both `timestamp_gpu` and `timestamp_cpu` on one frame.
    case conflictsWithTimestampCPU
    /// A GPU timestamp does not fit the declared `timestamp_bits`.
    case exceedsCounterWidth(bits: Int)
    /// `tick_period_ns` is required with `timestamp_unit` `ticks`.
    case requiredForTicks
    /// The payload element at `index` is not a number.
    case elementNotANumber(index: Int)
    /// The payload element at `index` is beyond the `Float` range.
    case elementOutOfRange(index: Int)
    /// More samples than the receiver's buffer holds.
    case tooManySamples(limit: Int)
    /// The sample count is not a multiple of `channels`.
    case notAMultipleOfChannels(count: Int, channels: Int)

    /// A short human explanation.
    public var description: String {
        switch self {
        case .duplicate: "given twice"
        case .missing: "required but missing"
        case .notAString: "must be a string"
        case .notAnArray: "must be an array of numbers"
        case .notAnInteger: "must be an integer (no fraction or exponent)"
        case .notANumber: "must be a number"
        case .outOfRange(let allowed): "out of range (allowed: \(allowed))"
        case .tooLong(let limit): "longer than \(limit) bytes"
        case .unknownValue(let allowed): "unknown value (allowed: \(allowed))"
        case .malformedVersion: "malformed (expected \"jamnet/MAJOR.MINOR\")"
        case .conflictsWithTimestampCPU: "given together with timestamp_cpu (send one of them)"
        case .exceedsCounterWidth(let bits): "does not fit in timestamp_bits (\(bits))"
        case .requiredForTicks: "required when timestamp_unit is \"ticks\""
        case .elementNotANumber(let index): "element \(index) is not a number"
        case .elementOutOfRange(let index): "element \(index) is beyond the 32-bit float range"
        case .tooManySamples(let limit): "more than \(limit) samples"
        case .notAMultipleOfChannels(let count, let channels): "\(count) samples is not a multiple of channels (\(channels))"
        }
    }
}

/// Constant text naming what a field allows (a literal, so rejections allocate nothing).
public struct AllowedValues: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    private let text: StaticString

    /// Wraps a literal.
    public init(stringLiteral text: StaticString) { self.text = text }

    /// The text.
    public var description: String { text.description }

    public static func == (lhs: AllowedValues, rhs: AllowedValues) -> Bool { lhs.description == rhs.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}
