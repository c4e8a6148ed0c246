import Core
import Wire

/// Answers the receiver's `clock_probe` with a `clock_echo` (jamnet/1.1): the sender's side of the
/// two-way clock exchange. Other lines from the receiver are ignored.
public struct ClockProbeResponder {
    private var decoder = JamnetDecoder()
    private var samples = [Float](repeating: 0, count: 0)
    private let sessionID: String?

    /// Answers on behalf of session `sessionID`.
    public init(sessionID: String?) {
        self.sessionID = sessionID
    }

    /// The echo line (with its newline) for `line` if it is a probe; `received` is when it arrived
    /// and `now` is read just before the echo leaves (t3).
    public mutating func answer(_ line: UnsafeRawBufferPointer, received: Nanoseconds, now: () -> Nanoseconds) -> [UInt8]? {
        let decoded = samples.withUnsafeMutableBufferPointer { decoder.decode(line, samples: $0) }
        guard case .clockProbe(let probe) = decoded else { return nil }
        var output: [UInt8] = []
        let echo = ClockEcho(probeID: probe.probeID, probeSent: probe.probeSent, probeReceived: received,
                             echoSent: max(now(), received), sessionID: sessionID)
        guard (try? JamnetEncoder().encode(echo, into: &output)) != nil else { return nil }
        output.append(UInt8(ascii: "\n"))
        return output
    }
}
