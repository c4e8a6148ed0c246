import Core

/// What `jamsend` plays: the `--signal` option, parsed.
public enum Signal: Hashable, Sendable, CustomStringConvertible {
    /// A sine wave (`sine[:FREQ[:AMPLITUDE]]`, default 1000 Hz at 0.5).
    case sine(frequency: Double, amplitude: Float)
    /// One full-scale sample at every multiple of `period` on the sender's CPU clock
    /// (`impulse:PERIOD`, e.g. `impulse:100ms`): the timing probe.
    case impulse(period: Nanoseconds)
    /// A linear sweep from `start` to `end` Hz over `duration`, then again (`chirp[:START:END[:SECONDS]]`,
    /// default 20 Hz to 20 kHz over 10 s at 0.5).
    case chirp(start: Double, end: Double, duration: Nanoseconds, amplitude: Float)
    /// White noise, uniform in ±`amplitude`, independent per channel (`noise[:AMPLITUDE]`, default 0.5).
    case noise(amplitude: Float)
    /// Zeros.
    case silence
    /// A WAV file (`file:PATH.wav`), at its own rate and channel count, looped.
    case file(path: String)

    /// Why a `--signal` value was refused.
    public struct ParseError: Error, CustomStringConvertible {
        /// The explanation, naming the accepted forms.
        public let description: String
    }

    /// Parses `sine`, `sine:440`, `sine:440:0.25`, `impulse:100ms`, `chirp`, `chirp:100:8000:5`,
    /// `noise`, `noise:0.1`, `silence`, `file:PATH.wav`.
    public init(parsing text: String) throws(ParseError) {
        let parts = text.split(separator: ":", maxSplits: text.hasPrefix("file:") ? 1 : Int.max, omittingEmptySubsequences: false)
            .map(String.init)
        let arguments = Array(parts.dropFirst())
        func number(_ index: Int, _ name: String, default value: Double, in range: ClosedRange<Double>) throws(ParseError) -> Double {
            guard index < arguments.count else { return value }
            guard let parsed = Double(arguments[index]), range.contains(parsed) else {
                throw ParseError(description: "\(text): \(name) must be a number in \(range.lowerBound)…\(range.upperBound)")
            }
            return parsed
        }
        func expectArguments(atMost count: Int) throws(ParseError) {
            if arguments.count > count { throw ParseError(description: "\(text): too many parts; \(Self.forms)") }
        }
        switch parts[0] {
        case "sine":
            try expectArguments(atMost: 2)
            self = .sine(frequency: try number(0, "frequency", default: 1000, in: 0...384_000),
                         amplitude: Float(try number(1, "amplitude", default: 0.5, in: 0...1)))
        case "impulse":
            try expectArguments(atMost: 1)
            let period = arguments.first.map { Nanoseconds(duration: $0) } ?? .seconds(1)
            guard let period, period >= .microseconds(100) else {
                throw ParseError(description: "\(text): PERIOD must be a duration of at least 100us, like 250ms or 1s")
            }
            self = .impulse(period: period)
        case "chirp":
            guard arguments.count != 1 else { throw ParseError(description: "\(text): give both START and END; \(Self.forms)") }
            try expectArguments(atMost: 3)
            let start = try number(0, "start frequency", default: 20, in: 0...384_000)
            let end = try number(1, "end frequency", default: 20_000, in: 0...384_000)
            let seconds = try number(2, "sweep seconds", default: 10, in: 0.01...3600)
            self = .chirp(start: start, end: end, duration: Nanoseconds(Int64(seconds * 1e9)), amplitude: 0.5)
        case "noise":
            try expectArguments(atMost: 1)
            self = .noise(amplitude: Float(try number(0, "amplitude", default: 0.5, in: 0...1)))
        case "silence":
            try expectArguments(atMost: 0)
            self = .silence
        case "file":
            guard let path = arguments.first, !path.isEmpty else { throw ParseError(description: "file: needs a path, as in file:take1.wav") }
            self = .file(path: path)
        default:
            throw ParseError(description: "unknown signal \"\(parts[0])\"; \(Self.forms)")
        }
    }

    /// The accepted forms, for error messages and help.
    public static let forms = "use sine[:FREQ[:AMPLITUDE]], impulse:PERIOD, chirp[:START:END[:SECONDS]], noise[:AMPLITUDE], silence or file:PATH.wav"

    /// The form it was parsed from.
    public var description: String {
        switch self {
        case .sine(let frequency, let amplitude): "sine:\(frequency):\(amplitude)"
        case .impulse(let period): "impulse:\(period)"
        case .chirp(let start, let end, let duration, _): "chirp:\(start):\(end):\(duration.seconds)"
        case .noise(let amplitude): "noise:\(amplitude)"
        case .silence: "silence"
        case .file(let path): "file:\(path)"
        }
    }
}
