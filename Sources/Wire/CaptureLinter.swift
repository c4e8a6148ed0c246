import Core

/// Checks a JSON Lines capture line by line, as a receiver would classify it.
///
/// Feed it the capture's bytes in any chunks; it reports every line that is not `ok` and keeps a
/// count per class. Memory stays bounded by the line limit. Thread: one caller.
public struct CaptureLinter {
    /// One line that is not `ok`, or not authentic.
    public struct Finding: Hashable, Sendable, CustomStringConvertible {
        /// 1-based line number in the capture.
        public var line: Int
        /// Its class (`json-error`, ...) or, with keys, why it is not authentic (`bad-mac`, ...).
        public var problem: String
        /// What exactly.
        public var detail: String

        /// `line 3: json-error: byte 9: expected ',' or '}'`.
        public var description: String { "line \(line): \(problem): \(detail)" }
    }

    /// With keys (`jamplay lint --keys`): why a line is not authentic (a reason such as
    /// `bad-mac`, and a detail), or nil when it is. It sees the line, its signature fields and
    /// what it decoded to; it is called for every line before its class counts.
    public typealias Authenticator = (_ line: UnsafeRawBufferPointer, _ signature: LineSignature?, _ decoded: DecodedLine) -> (reason: String, detail: String)?

    private var framer: LineFramer
    private var state: LintState

    /// Makes a linter for lines of at most `limit` bytes; with `authenticator`, a line that is
    /// not authentic is reported and counted by its reason instead of its class.
    public init(limit: ByteCount = .mebibytes(1), authenticator: Authenticator? = nil) {
        framer = LineFramer(limit: limit)
        state = LintState(limit: limit, authenticator: authenticator)
    }

    /// Lines seen per class (authentic ones only, with an authenticator).
    public var counts: [LineClass: Int] { state.counts }

    /// With an authenticator: lines that were not authentic, by reason.
    public var unauthenticated: [String: Int] { state.unauthenticated }

    /// Every line, counted; true when all were `ok` (and authentic).
    public var allLinesOK: Bool { counts.allSatisfy { $0.key == .ok || $0.value == 0 } && unauthenticated.isEmpty }

    /// `12 lines: 10 ok, 1 json-error, 0 not-a-message, …`: every class, in a fixed order; with
    /// an authenticator, `; 2 not authentic (1 bad-mac, 1 replayed)`.
    public var summary: String {
        let failed = unauthenticated.values.reduce(0, +)
        let total = counts.values.reduce(0, +) + failed
        let parts = LineClass.allCases.map { "\(counts[$0] ?? 0) \($0)" }
        var summary = "\(total) line\(total == 1 ? "" : "s"): " + parts.joined(separator: ", ")
        if state.authenticator != nil {
            summary += "; \(failed) not authentic" + (failed == 0 ? "" : " (" + unauthenticated.sorted { $0.key < $1.key }.map { "\($1) \($0)" }.joined(separator: ", ") + ")")
        }
        return summary
    }

    /// Checks the lines that `chunk` completes; `report` gets each finding in order.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, report: (Finding) -> Void) {
        framer.feed(chunk) { state.check($0, report) }
    }

    /// Ends the capture: checks a last line that has no newline.
    public mutating func finish(report: (Finding) -> Void) {
        framer.finish { state.check($0, report) }
    }

}

/// The linter's state apart from its framer, so that framing and checking can run together.
private struct LintState {
    var counts: [LineClass: Int] = Dictionary(uniqueKeysWithValues: LineClass.allCases.map { ($0, 0) })
    let limit: ByteCount
    var decoder = JamnetDecoder()
    var samples: [Float]
    let authenticator: CaptureLinter.Authenticator?
    var unauthenticated: [String: Int] = [:]

    init(limit: ByteCount, authenticator: CaptureLinter.Authenticator?) {
        self.limit = limit
        self.authenticator = authenticator
        // Each payload element takes at least two bytes ("0,"), so this never runs short.
        samples = [Float](repeating: 0, count: limit.rawValue / 2 + 1)
    }

    mutating func check(_ event: LineFramer.Event, _ report: (CaptureLinter.Finding) -> Void) {
        let rejection: LineRejection?
        let number: Int
        switch event {
        case .line(let bytes, let lineNumber):
            number = lineNumber
            let decoded = samples.withUnsafeMutableBufferPointer { decoder.decode(bytes, samples: $0) }
            if let authenticator, let failure = authenticator(bytes, decoder.signature, decoded) {
                unauthenticated[failure.reason, default: 0] += 1
                return report(CaptureLinter.Finding(line: lineNumber, problem: failure.reason, detail: failure.detail))
            }
            if case .rejected(let reason) = decoded { rejection = reason } else { rejection = nil }
        case .tooLong(let length, let lineNumber):
            number = lineNumber
            rejection = .lineTooLong(length, limit: limit)
        }
        counts[rejection?.lineClass ?? .ok, default: 0] += 1
        if let rejection { report(CaptureLinter.Finding(line: number, problem: rejection.lineClass.rawValue, detail: rejection.description)) }
    }
}
