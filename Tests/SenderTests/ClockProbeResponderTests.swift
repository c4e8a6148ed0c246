import Authentication
import Core
import Sender
import Testing
import Wire

/// The sender's side of the clock exchange, with and without a key.
@Suite struct ClockProbeResponderTests {
    static let key = try! AuthenticationKey(id: "stage", secret: Array(repeating: 4, count: 32))

    static func probe(challenge: String? = "0123456789abcdef0123456789abcdef", signer: LineSigner? = nil) -> [UInt8] {
        var line: [UInt8] = []
        try! JamnetEncoder().encode(ClockProbe(version: .authentication, probeID: 9, probeSent: .seconds(5), sessionID: "s", challenge: challenge), into: &line)
        signer?.sign(&line)
        return line
    }

    static func answer(_ responder: inout ClockProbeResponder, _ line: [UInt8]) -> [UInt8]? {
        line.withUnsafeBytes { responder.answer($0, received: .seconds(7), now: { .seconds(7) + .microseconds(3) }) }
    }

    @Test func withoutAKeyEveryProbeIsAnsweredWithItsChallenge() throws {
        var responder = ClockProbeResponder(sessionID: "s")
        let echo = try #require(Self.answer(&responder, Self.probe()))
        let text = String(decoding: echo, as: UTF8.self)
        #expect(text.contains(#""challenge":"0123456789abcdef0123456789abcdef""#) && !text.contains("\"mac\""))
    }

    @Test func withAKeyOnlyFreshSignedProbesAreAnsweredAndTheEchoIsSigned() throws {
        var responder = ClockProbeResponder(sessionID: "s", signer: LineSigner(key: Self.key))
        #expect(Self.answer(&responder, Self.probe()) == nil, "unsigned")
        let forger = LineSigner(key: try AuthenticationKey(id: "stage", secret: Array(repeating: 5, count: 32)))
        #expect(Self.answer(&responder, Self.probe(signer: forger)) == nil, "signed with another secret")
        let receiver = LineSigner(key: Self.key, firstCounter: 1_000)
        let probe = Self.probe(signer: receiver)
        let echo = try #require(Self.answer(&responder, probe))
        #expect(Self.answer(&responder, probe) == nil, "the same probe again")
        // The echo: the probe's challenge, signed with the sender's key.
        var decoder = JamnetDecoder()
        var samples: [Float] = []
        let line = Array(echo.dropLast())
        guard case .clockEcho(let decoded) = decoder.decode(line, samples: &samples) else { Issue.record("not an echo"); return }
        #expect(decoded.challenge == "0123456789abcdef0123456789abcdef" && decoded.probeID == 9)
        #expect(line.withUnsafeBytes { KeyRing([Self.key]).authenticate($0, decoder.signature) }.map(\.keyID) == .success("stage"))
    }
}
