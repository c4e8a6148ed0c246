import Authentication
import Core
import Ingest
import Testing
import Wire

/// With keys (jamnet/1.2): only lines with a valid, fresh code reach a session, and a session
/// from another host plays only once it has answered a challenge. Lines go straight to the table.
@Suite struct AuthenticatedSessionTests {
    static let stage = try! AuthenticationKey(id: "stage", secret: Array(repeating: 7, count: 32))
    static let spare = try! AuthenticationKey(id: "spare", secret: Array(repeating: 9, count: 32))
    /// Signed under the id `stage`, with another secret: what a forger without the key makes.
    static let forged = try! AuthenticationKey(id: "stage", secret: Array(repeating: 8, count: 32))

    let local = SourceKey(transport: .udp, address: "127.0.0.1", port: 40_000)
    let remote = SourceKey(transport: .udp, address: "192.0.2.7", port: 50_000)
    let elsewhere = SourceKey(transport: .udp, address: "198.51.100.9", port: 41_000)

    /// A sender's lines of one session, signed with one counter.
    final class Sender {
        let signer: LineSigner
        let session: String
        var frame = 0

        init(key: AuthenticationKey = AuthenticatedSessionTests.stage, session: String = "s", firstCounter: UInt64 = 1) {
            signer = LineSigner(key: key, firstCounter: firstCounter)
            self.session = session
        }

        func calibration() -> [UInt8] {
            var line: [UInt8] = []
            try! JamnetEncoder().encode(SyncCalibrationBlock(version: .authentication, timestampCPU: 1_000_000_000_000, timestampGPU: 1_000_005_000_000,
                                                             sessionID: session), into: &line)
            signer.sign(&line)
            return line
        }

        /// The next 480-frame stereo frame, stamped on the CPU clock 10 ms after the last.
        func nextFrame() -> [UInt8] {
            defer { frame += 1 }
            var line: [UInt8] = []
            let header = AudioFrameHeader(version: .authentication, timestamp: .cpu(1_000_000_000_000 + Int64(frame) * 10_000_000), sessionID: session,
                                          streamID: "main", sequence: UInt64(frame), sampleRate: .standard, channelCount: ChannelCount(2))
            try! JamnetEncoder().encode(header, samples: [Float](repeating: 0.25, count: 960), into: &line)
            signer.sign(&line)
            return line
        }

        /// The signed echo of a probe line (nil if it is not one).
        func echo(to probeLine: [UInt8]) -> [UInt8]? {
            var decoder = JamnetDecoder()
            var samples: [Float] = []
            guard case .clockProbe(let probe) = decoder.decode(probeLine.dropLast(), samples: &samples) else { return nil }
            var line: [UInt8] = []
            try! JamnetEncoder().encode(ClockEcho(version: .authentication, probeID: probe.probeID, probeSent: probe.probeSent,
                                                  probeReceived: Nanoseconds(1_000_000_000_000), echoSent: Nanoseconds(1_000_000_000_100),
                                                  sessionID: session, challenge: probe.challenge), into: &line)
            signer.sign(&line)
            return line
        }
    }

    /// What the table sent (probes), by destination.
    final class Outbox: @unchecked Sendable {
        var lines: [(SourceKey, [UInt8])] = []
    }

    func table(keys: [AuthenticationKey] = [stage, spare], sameHost: Bool = true, outbox: Outbox = Outbox()) -> SessionTable {
        var configuration = IngestConfiguration()
        configuration.keys = KeyRing(keys)
        return SessionTable(configuration: configuration, isSameHost: { _ in sameHost }, send: { outbox.lines.append(($0, $1)) })
    }

    func send(_ table: SessionTable, _ line: [UInt8], from source: SourceKey? = nil, at seconds: Int64 = 1_000) {
        line.withUnsafeBytes { table.receive($0, from: source ?? local, at: .seconds(seconds)) }
    }

    func failures(_ table: SessionTable) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: AuthenticationFailure.allCases.map { ($0.rawValue, table.counters.authenticationFailed($0).value) })
            .filter { $0.value > 0 }
    }

    // MARK: - Lines without a valid code

    @Test func anUnsignedLineIsDroppedBeforeAnySessionIsMade() {
        let table = table()
        var line: [UInt8] = []
        try! JamnetEncoder().encode(SyncCalibrationBlock(timestampCPU: 1, timestampGPU: 2, sessionID: "s"), into: &line)
        send(table, line)
        send(table, Array("not json at all".utf8))
        #expect(failures(table) == ["unauthenticated": 2])
        #expect(table.activeSessions.isEmpty)
        #expect(table.counters.rejectedLines == 0, "nothing of an unauthenticated line is read, not even its class")
    }

    @Test func aForgedCodeAWrongKeyAndAnUnknownKeyAreDroppedByReason() {
        let table = table()
        var forgedCode = Sender().calibration()
        let digit = forgedCode.count - 3
        forgedCode[digit] = forgedCode[digit] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        send(table, forgedCode)
        send(table, Sender(key: Self.forged).calibration())
        send(table, Sender(key: try! AuthenticationKey(id: "gone", secret: Array(repeating: 7, count: 32))).calibration())
        #expect(failures(table) == ["bad-mac": 2, "unknown-key": 1])
        #expect(table.activeSessions.isEmpty)
    }

    @Test func aTruncatedOrMovedCodeIsDropped() {
        let table = table()
        let line = Sender().calibration()
        let trailer = LineSignature.trailerLength
        // One hex digit short.
        send(table, Array(line[..<(line.count - 3)]) + Array(#""}"#.utf8))
        // The code's field moved before the others: still valid JSON, no longer what was signed.
        let codeField = Array(line[(line.count - trailer)..<(line.count - 1)])
        let body = Array(line[..<(line.count - trailer)])  // ends with `,`
        send(table, [UInt8(ascii: "{")] + codeField + [UInt8(ascii: ",")] + body.dropFirst().dropLast() + [UInt8(ascii: "}")])
        // A space after the object: the code is no longer the line's end.
        send(table, line + [UInt8(ascii: " ")])
        // Cut off after the counter.
        send(table, body.dropLast() + [UInt8(ascii: "}")])
        #expect(failures(table) == ["bad-mac": 3, "unauthenticated": 1])
        #expect(table.activeSessions.isEmpty)
        send(table, line)
        #expect(table.activeSessions.count == 1, "the line itself is fine")
    }

    @Test func aReplayedLineIsDroppedAlsoFromAForgedAddress() throws {
        let table = table()
        let sender = Sender()
        let calibration = sender.calibration()
        send(table, calibration, from: local)
        send(table, calibration, from: local)
        send(table, calibration, from: elsewhere)
        #expect(failures(table) == ["replayed": 2])
        let session = try #require(table.session(keyID: "stage", "s"))
        #expect(table.activeSessions.count == 1)
        #expect(session.source == local, "a replay does not move the session")
        #expect(session.calibration.status.blocksUsed == 1)
    }

    @Test func linesReorderedWithinTheWindowAreAcceptedOnce() throws {
        let table = table()
        let sender = Sender()
        let lines = (0..<4).map { _ in sender.nextFrame() }
        for index in [0, 2, 1, 3, 1] { send(table, lines[index]) }
        #expect(failures(table) == ["replayed": 1])
        let stream = try #require(table.session(keyID: "stage", "s")?.streams["main"])
        #expect(stream.ring.stored == 4)
    }

    @Test func aKeyHoldersBadLineIsCountedByItsClass() {
        let table = table()
        var line = Array(#"{"type":"jdat","version":"jamnet/1.2","timestamp_cpu":1,"channels":0,"payload":[]}"#.utf8)
        Sender().signer.sign(&line)
        send(table, line)
        #expect(failures(table).isEmpty)
        #expect(table.counters.rejected(.invalidField).value == 1)
    }

    // MARK: - Sessions

    @Test func aSenderRestartWithANewSessionEndsTheOldOne() throws {
        let table = table()
        send(table, Sender(session: "first").nextFrame())
        send(table, Sender(session: "second").nextFrame())
        #expect(try #require(table.session(keyID: "stage", "first")).isEnding)
        #expect(try #require(table.session(keyID: "stage", "second")).isEnding == false)
        #expect(failures(table).isEmpty)
    }

    @Test func twoKeysAreValidAtOnceAndAReloadRetiresOne() {
        let table = table()
        let old = Sender(key: Self.stage, session: "old"), new = Sender(key: Self.spare, session: "new")
        send(table, old.nextFrame())
        send(table, new.nextFrame())
        #expect(table.activeSessions.count == 2 && failures(table).isEmpty)
        table.keys = KeyRing([Self.spare])
        send(table, old.nextFrame())
        send(table, new.nextFrame())
        #expect(failures(table) == ["unknown-key": 1])
        #expect(table.session(keyID: "spare", "new")?.streams["main"]?.ring.stored == 2)
        #expect(table.session(keyID: "stage", "old")?.streams["main"]?.ring.stored == 1)
    }

    @Test func aRemoteSessionPlaysOnlyOnceItHasAnsweredItsChallenge() throws {
        let outbox = Outbox()
        let table = table(sameHost: false, outbox: outbox)
        let sender = Sender()
        send(table, sender.calibration(), from: remote)
        send(table, sender.nextFrame(), from: remote)
        let session = try #require(table.session(keyID: "stage", "s"))
        #expect(!session.isVerified && session.streams.isEmpty)
        #expect(failures(table) == ["unverified": 1])
        // The challenge went at once, signed, to where the session's lines came from.
        let (destination, probe) = try #require(outbox.lines.first)
        #expect(destination == remote)
        #expect(String(decoding: probe, as: UTF8.self).contains("\"challenge\":\""))
        var decoder = JamnetDecoder()
        var samples: [Float] = []
        _ = decoder.decode(probe.dropLast(), samples: &samples)
        #expect(probe.dropLast().withUnsafeBytes { KeyRing([Self.stage]).authenticate(UnsafeRawBufferPointer($0), decoder.signature) }.map(\.keyID) == .success("stage"))

        // An echo with the right ids but another challenge proves nothing.
        let wrong = try #require(sender.echo(to: Array(String(decoding: probe, as: UTF8.self).replacingChallenge().utf8)))
        send(table, wrong, from: remote)
        #expect(!session.isVerified && table.counters.unexpectedEchoes.value == 1)
        send(table, try #require(sender.echo(to: probe)), from: remote)
        #expect(session.isVerified)
        send(table, sender.nextFrame(), from: remote)
        #expect(session.streams["main"]?.ring.stored == 1)
    }

    @Test func aRecordedSessionReplayedLaterFromAnotherAddressNeverPlays() throws {
        let outbox = Outbox()
        let table = table(sameHost: false, outbox: outbox)
        let sender = Sender()
        // The live session, recorded line by line as it went past.
        var recording = [sender.calibration(), sender.nextFrame()]
        for line in recording { send(table, line, from: remote, at: 1_000) }
        let challenge = try #require(outbox.lines.first).1
        let echo = try #require(sender.echo(to: challenge))
        recording.append(echo)
        send(table, echo, from: remote, at: 1_000)
        for _ in 0..<20 {
            let frame = sender.nextFrame()
            recording.append(frame)
            send(table, frame, from: remote, at: 1_001)
        }
        // (Its first frame came before the echo: dropped as unverified.)
        #expect(table.session(keyID: "stage", "s")?.streams["main"]?.ring.stored == 20)
        // It ends (silent past the timeout); later the whole recording comes again from elsewhere.
        table.expire(now: .seconds(1_010))
        #expect(table.activeSessions.isEmpty)
        outbox.lines.removeAll()
        for line in recording { send(table, line, from: elsewhere, at: 1_020) }
        let replayed = try #require(table.session(keyID: "stage", "s"))
        #expect(!replayed.isVerified && replayed.streams.isEmpty)
        #expect(failures(table) == ["unverified": 1 + 21])
        #expect(table.counters.unexpectedEchoes.value == 1, "the recorded echo answers an old challenge")
        #expect(outbox.lines.map(\.0) == [elsewhere], "the replayer was challenged")
        #expect(table.counters.streamsActive.value == 0)
        // Unanswered, it ends after the challenge timeout.
        table.expire(now: .seconds(1_026))
        #expect(table.activeSessions.isEmpty)
    }

    @Test func replayedRecordingsHoldOnlySoManySlots() {
        let table = table(sameHost: false)
        for index in 0..<20 { send(table, Sender(session: "recording \(index)").calibration(), from: remote) }
        #expect(table.activeSessions.count == IngestConfiguration().maximumUnverifiedSessions)
        #expect(table.counters.refusedSessions.value == 0)
    }
}

private extension String {
    /// The same probe with another challenge.
    func replacingChallenge() -> String {
        guard let range = range(of: #""challenge":""#) else { return self }
        let start = range.upperBound
        let end = index(start, offsetBy: 32)
        return replacingCharacters(in: start..<end, with: String(repeating: "f", count: 32))
    }
}
