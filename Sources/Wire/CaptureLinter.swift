import Core

/// Checks a JSON Lines capture line by line, as a receiver would classify it.
///
/// Feed it the capture's bytes in any chunks; it reports every line that is not `ok` and keeps a
/// count per class. Memory stays bounded by the line limit. Thread: one caller.
public struct CaptureLinter {
    /// One line that is not `ok`.
    public struct Finding: Hashable, Sendable, CustomStringConvertible {
        /// 1-based line number in the capture.
        public var line: Int
        /// Why it was rejected.
        public var rejection: LineRejection

        /// `line 3: json-error: byte 9: expected ',' or '}'`.
        public var description: String { "line \(line): \(rejection.lineClass): \(rejection)" }
    }

    private var framer: LineFramer
    private var state: LintState

    /// Makes a linter for lines of at most `limit` bytes.
    public init(limit: ByteCount = .mebibytes(1)) {
        framer = LineFramer(limit: limit)
        state = LintState(limit: limit)
    }

    /// Lines seen per class.
    public var counts: [LineClass: Int] { state.counts }

    /// Every line, counted; true when all were `ok`.
    public var allLinesOK: Bool { counts.allSatisfy { $0.key == .ok || $0.value == 0 } }

    /// `12 lines: 10 ok, 1 json-error, 0 not-a-message, …`: every class, in a fixed order.
    public var summary: String {
        let total = counts.values.reduce(0, +)
        let parts = LineClass.allCases.map { "\(counts[$0] ?? 0) \($0)" }
        return "\(total) line\(total == 1 ? "" : "s"): " + parts.joined(separator: ", ")
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

    init(limit: ByteCount) {
        self.limit = limit
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
            if case .rejected(let reason) = decoded { rejection = reason } else { rejection = nil }
        case .tooLong(let length, let lineNumber):
            number = lineNumber
            rejection = .lineTooLong(length, limit: limit)
        }
        counts[rejection?.lineClass ?? .ok, default: 0] += 1
        if let rejection { report(CaptureLinter.Finding(line: number, rejection: rejection)) }
    }
}
