import Authentication
import Core
import Wire

/// Answers the receiver's `clock_probe` with a `clock_echo` (jamnet/1.1): the sender's side of the
/// two-way clock exchange. Other lines from the receiver are ignored. With a key (jamnet/1.2) it
/// answers only probes signed by that key with a fresh counter, returns their challenge and signs
/// the echo.
public struct ClockProbeResponder {
    private var decoder = JamnetDecoder()
    private var samples = [Float](repeating: 0, count: 0)
    private let sessionID: String?
    private let signer: LineSigner?
    /// The signer's key, the one a probe must be signed with.
    private let keys: KeyRing?
    private var replayWindow = ReplayWindow()

    /// Answers on behalf of session `sessionID`; with `signer`, only probes signed by its key.
    public init(sessionID: String?, signer: LineSigner? = nil) {
        self.sessionID = sessionID
        self.signer = signer
        keys = signer.map { KeyRing([$0.key]) }
    }

    /// The echo line (with its newline) for `line` if it is a probe; `received` is when it arrived
    /// and `now` is read just before the echo leaves (t3).
    public mutating func answer(_ line: UnsafeRawBufferPointer, received: Nanoseconds, now: () -> Nanoseconds) -> [UInt8]? {
        let decoded = samples.withUnsafeMutableBufferPointer { decoder.decode(line, samples: $0) }
        guard case .clockProbe(let probe) = decoded else { return nil }
        if let keys {
            guard case .success(let authenticated) = keys.authenticate(line, decoder.signature),
                  replayWindow.accept(authenticated.counter) else { return nil }
        }
        var output: [UInt8] = []
        let echo = ClockEcho(version: signer == nil ? .clockExchange : .authentication, probeID: probe.probeID, probeSent: probe.probeSent,
                             probeReceived: received, echoSent: max(now(), received), sessionID: sessionID, challenge: probe.challenge)
        guard (try? JamnetEncoder().encode(echo, into: &output)) != nil else { return nil }
        signer?.sign(&output)
        output.append(UInt8(ascii: "\n"))
        return output
    }
}
