import Authentication
import Buffer
import Clock
import Core
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// The receiver's sessions and streams: every decoded line goes through here.
///
/// A session is (source, `session_id`) — with keys, (`key_id`, `session_id`), wherever its lines
/// come from — and a new `session_id` from the same source is a restart: the old session plays
/// out and ends. With keys, a line without a valid, fresh code is dropped before any session is
/// touched, and a new session from another host plays only once it has answered a challenge.
/// A stream's rate, channel count and stamp clock are fixed by its first frame; a change starts a
/// new stream. Calibration blocks and clock echoes feed the
/// session's clocks; frames go to their stream (``IngestStream``), which places and stores them.
/// Everything bad is counted and dropped; limits bound what any sender can make the receiver
/// hold: sessions, streams, ring memory (``BufferBudget``), format changes (one a second per
/// stream), probes awaiting echoes, and reports to the log (the first of each class from each
/// address, at most ``reportsPerMinute`` of a class whatever the address).
/// Thread: the ingest event loop only (it is the rings' producer).
public final class SessionTable {
    private struct Key: Hashable {
        /// The source; nil for a session identified by its key.
        var source: SourceKey?
        var keyID: String?
        var sessionID: String?
    }

    public let configuration: IngestConfiguration
    public let counters: IngestCounters
    /// The memory every stream's ring takes together, within `--max-buffer`.
    public let budget: BufferBudget
    /// Whether a source is on this host: it shares our clock (no probes, no one-way estimate).
    private let isSameHost: @Sendable (SourceKey) -> Bool
    private var decoder = JamnetDecoder()
    private let samples: UnsafeMutableBufferPointer<Float>
    private var sessions: [Key: IngestSession] = [:]
    /// The newest session each source has used.
    private var currentSession: [SourceKey: Key] = [:]
    private var streamCount = 0
    private var nextProbeID: UInt64 = 0
    private let streamEvents: StreamEvents?
    private let sessionEvents: SessionEvents?
    /// What was told of an address's bad input (a rejection class, or a drop); cleared when it reaches its bound.
    private var told: Set<String> = []
    static let toldBound = 1_024
    /// Per class of report: the minute it counts in, reports told and withheld in it.
    private var reportWindows: [String: (start: Nanoseconds, told: Int, withheld: Int)] = [:]
    /// `--latency auto`'s choice (nil: the latency is fixed).
    private var latencyChooser: LatencyChooser?
    /// Reports of one class told per minute, whatever the address (an attacker has many).
    public static let reportsPerMinute = 5
    /// `--keys`: lines must be signed by one of these (nil: no authentication). A reload replaces it.
    public var keys: KeyRing?
    /// Sends a line to a source (the server's sockets): a new remote session's first probe goes at once.
    private let send: Send?

    /// Sends a line to a source. Called on the ingest thread.
    public typealias Send = (_ source: SourceKey, _ line: [UInt8]) -> Void

    /// Told when a stream starts (its first frame) and when it ends (its session ends, or its
    /// format changes): playback attaches and detaches it. Called on the ingest thread.
    public typealias StreamEvents = @Sendable (_ stream: IngestStream, _ started: Bool) -> Void
    /// Told of session changes and (rate-limited) bad input, for the log. Called on the ingest thread.
    public typealias SessionEvents = @Sendable (SessionEvent) -> Void

    /// Makes an empty table. `isSameHost` tells the sources on this host (by default: loopback);
    /// `budget` is the rings' memory (by default one of the configuration's size).
    public init(configuration: IngestConfiguration = IngestConfiguration(), counters: IngestCounters = IngestCounters(),
                budget: BufferBudget? = nil, isSameHost: @escaping @Sendable (SourceKey) -> Bool = { $0.isLoopback },
                streamEvents: StreamEvents? = nil, sessionEvents: SessionEvents? = nil, send: Send? = nil) {
        self.configuration = configuration
        self.send = send
        keys = configuration.keys
        self.counters = counters
        self.isSameHost = isSameHost
        self.streamEvents = streamEvents
        self.sessionEvents = sessionEvents
        self.budget = budget ?? BufferBudget(limit: configuration.maximumBufferBytes, perStreamLimit: configuration.maximumStreamBufferBytes)
        latencyChooser = configuration.automaticLatencyCeiling.map(LatencyChooser.init(ceiling:))
        // Each payload element takes at least two bytes ("0,"): a line cannot overflow this.
        samples = .allocate(capacity: configuration.maximumLineBytes.rawValue / 2 + 1)
    }

    deinit { samples.deallocate() }

    /// The sessions now active (ending ones included until they expire).
    public var activeSessions: [IngestSession] { Array(sessions.values) }

    /// The session `sessionID` of `source`, if active (without keys).
    public func session(_ source: SourceKey, _ sessionID: String?) -> IngestSession? { sessions[Key(source: source, sessionID: sessionID)] }

    /// The session `sessionID` signed by key `keyID`, if active (with keys).
    public func session(keyID: String, _ sessionID: String?) -> IngestSession? { sessions[Key(keyID: keyID, sessionID: sessionID)] }

    /// Takes one line (without its line ending) from `source`, which arrived at `arrival` (local clock).
    public func receive(_ line: UnsafeRawBufferPointer, from source: SourceKey, at arrival: Nanoseconds) {
        let transport = source.transport == .tcp ? counters.tcp : counters.udp
        transport.messages.add()
        transport.bytes.add(line.count)
        let decoded = decoder.decode(line, samples: samples)
        // With keys, nothing of a line counts before its code is checked (the decoding above
        // touched nothing but the decoder's scratch).
        var signer: AuthenticatedLine?
        if let keys {
            switch keys.authenticate(line, decoder.signature) {
            case .failure(let reason): return refuse(reason, from: source, at: arrival)
            case .success(let authenticated): signer = authenticated
            }
        }
        switch decoded {
        case .rejected(let rejection):
            counters.rejected(rejection.lineClass).add()
            tell(rejection, from: source, at: arrival)
        case .syncCalibration(let block):
            guard let session = session(for: source, block.sessionID, signer: signer, at: arrival) else { return }
            let mode = session.calibration.status.mode
            let outcome = session.calibration.add(
                CalibrationBlock(cpuTimestamp: block.timestampCPU, gpuTimestamp: block.timestampGPU, unit: block.unit,
                                 counterBits: block.timestampBits, maxDeviation: block.maxDeviation),
                receivedAt: arrival)
            if outcome == .invalid { return rejectTimestamp(.timestampGPU, from: source, at: arrival) }
            // A block is stamped as it is sent: the one-way clock estimate's measure from now on.
            if let sent = block.unit.nanoseconds(ofCPUTimestamp: block.timestampCPU) {
                if !session.sendsCalibration { session.host.restartOneWay() }
                session.sendsCalibration = true
                session.host.addOneWay(senderTime: sent, arrival: arrival)
            }
            if outcome == .relocked { sessionEvents?(.relocked(source: source, sessionID: session.sessionID)) }
            let newMode = session.calibration.status.mode
            if newMode != mode { sessionEvents?(.calibrated(source: source, sessionID: session.sessionID, mode: newMode)) }
        case .clockEcho(let echo):
            // Only an answer to a probe we sent, with its very send time (and challenge): anything
            // else could move the session's clock.
            let key = key(for: source, echo.sessionID, signer: signer)
            let session = sessions[key]
            guard let probe = session?.outstandingProbes.firstIndex(where: {
                $0.id == echo.probeID && $0.sent == echo.probeSent && $0.challenge == echo.challenge
            }), let session else {
                counters.unexpectedEchoes.add()
                report(.unexpectedEcho(source: source, sessionID: echo.sessionID), kind: "unexpected-echo", from: source, at: arrival)
                return
            }
            guard admit(signer, to: session, from: source, at: arrival) else { return }
            session.outstandingProbes.remove(at: probe)
            if !session.isVerified { verify(session, key) }
            session.host.addExchange(probeSent: echo.probeSent, probeReceived: echo.probeReceived, echoSent: echo.echoSent, echoReceived: arrival)
        case .clockProbe:
            break  // probes go from receivers to senders; one sent to us asks nothing we answer
        case .audioFrame(let header, let sampleCount, let clipped):
            if clipped > 0 { counters.clippedSamples.add(clipped) }
            receiveFrame(header, sampleCount: sampleCount, from: source, signer: signer, at: arrival)
        }
    }

    /// Counts a line that authentication dropped, and tells of it: at most
    /// ``reportsPerMinute`` of each reason, whatever the address (a forger can vary it).
    private func refuse(_ reason: AuthenticationFailure, from source: SourceKey, at now: Nanoseconds) {
        counters.authenticationFailed(reason).add()
        report(.unauthenticated(source: source, reason: reason), kind: reason.rawValue, from: nil, at: now)
    }

    /// Counts a line the framer discarded as over the limit (it arrived at `arrival`).
    public func receiveTooLong(from source: SourceKey, length: ByteCount, at arrival: Nanoseconds) {
        let transport = source.transport == .tcp ? counters.tcp : counters.udp
        transport.messages.add()
        transport.bytes.add(length.rawValue)
        counters.rejected(.lineTooLong).add()
        tell(.lineTooLong(length, limit: configuration.maximumLineBytes), from: source, at: arrival)
    }

    /// Counts a connection or datagram from outside `--allow`, dropped unread at `now`; tells the first from each address.
    public func dropDisallowed(from source: SourceKey, at now: Nanoseconds) {
        counters.disallowed.add()
        report(.disallowed(source: source), kind: "disallowed", from: source, at: now)
    }

    /// Tells the first rejection of each class from each address; the rest are only counted.
    private func tell(_ rejection: LineRejection, from source: SourceKey, at now: Nanoseconds) {
        report(.rejected(source: source, rejection: rejection), kind: rejection.lineClass.rawValue, from: source, at: now)
    }

    /// Tells `event` if it is the first of its `kind` from the source's address and its kind has
    /// not had ``reportsPerMinute`` reports in the current minute; what is withheld is said with
    /// the next report of the kind told.
    private func report(_ event: SessionEvent, kind: String, from source: SourceKey?, at now: Nanoseconds) {
        guard let sessionEvents else { return }
        let key = source.map { "\($0.address) \(kind)" }
        if let key, told.contains(key) { return }
        var window = reportWindows[kind] ?? (now, 0, 0)
        if now - window.start >= .seconds(60) || now < window.start { window = (now, 0, window.withheld) }
        guard window.told < Self.reportsPerMinute else {
            window.withheld += 1
            reportWindows[kind] = window
            return
        }
        if let key {
            if told.count >= Self.toldBound { told.removeAll() }
            told.insert(key)
        }
        window.told += 1
        if window.withheld > 0 { sessionEvents(.suppressed(count: window.withheld, what: kind)) }
        window.withheld = 0
        reportWindows[kind] = window
        sessionEvents(event)
    }

    /// A `clock_probe` line (with its newline) for each live session of a remote sender, stamped
    /// `now`: the server sends each to its source, and the echoes come back through ``receive``.
    /// Each session keeps the last few probes awaiting their echo.
    public func probes(now: Nanoseconds) -> [(source: SourceKey, line: [UInt8])] {
        sessions.values.filter { $0.host.mode != .sameHost && !$0.isEnding }.map { ($0.source, probe(to: $0, now: now)) }
    }

    /// A probe line for `session` (with keys: with a fresh challenge, signed), remembered as awaiting its echo.
    private func probe(to session: IngestSession, now: Nanoseconds) -> [UInt8] {
        nextProbeID &+= 1
        let challenge = session.signer.map { _ in Challenge.make() }
        session.outstandingProbes.append((nextProbeID, now, challenge))
        if session.outstandingProbes.count > configuration.outstandingProbes { session.outstandingProbes.removeFirst() }
        var line: [UInt8] = []
        let version: ProtocolVersion = challenge == nil ? .clockExchange : .authentication
        // Cannot fail: ids come from the wire, where they were checked against the same limits.
        try? JamnetEncoder().encode(ClockProbe(version: version, probeID: nextProbeID, probeSent: now, sessionID: session.sessionID,
                                               challenge: challenge), into: &line)
        session.signer?.sign(&line)
        return line + [UInt8(ascii: "\n")]
    }

    /// Ends the sessions silent for longer than the session timeout, freeing their streams.
    public func expire(now: Nanoseconds) {
        for (key, session) in sessions where now - session.lastActivity > configuration.sessionTimeout {
            end(key, session)
            if session.isVerified { sessionEvents?(.ended(source: session.source, sessionID: key.sessionID)) }
        }
        for (key, session) in sessions where !session.isVerified && now - session.startedAt > configuration.challengeTimeout {
            end(key, session)
        }
        reviewLatency(now: now)
    }

    /// `--latency auto`, once a second: brings the latency down towards what the streams need.
    private func reviewLatency(now: Nanoseconds) {
        guard latencyChooser != nil, let latency = configuration.latency, let schedule = configuration.deviceSchedule?.schedule else { return }
        let needs = sessions.values.flatMap(\.streams.values).compactMap { stream in
            // All of the window, not a quantile: a late frame is a gap, and a 1 % quantile of 11 s
            // of frames lets a frame every second or two through.
            stream.arrivals.count >= StreamArrivals.enoughToChoose ? stream.arrivals.mostNeededWithMargin : nil
        }
        if let lowered = latencyChooser?.review(streamNeeds: needs, floor: schedule.mixLead + schedule.period, current: latency.target, at: now) {
            latency.target = lowered
        }
    }

    // MARK: - Frames

    private func receiveFrame(_ header: AudioFrameHeader, sampleCount: Int, from source: SourceKey, signer: AuthenticatedLine?, at arrival: Nanoseconds) {
        guard let session = session(for: source, header.sessionID, signer: signer, at: arrival), sampleCount > 0 else { return }
        guard session.isVerified else { return refuse(.unverified, from: source, at: arrival) }
        let stamp: Nanoseconds, senderTime: Nanoseconds?
        switch header.timestamp {
        case .gpu(let reading):
            guard session.calibration.isCalibrated else { counters.uncalibrated.add(); return }
            guard let gpuTime = session.calibration.gpuTime(forGPUTimestamp: reading) else {
                return rejectTimestamp(.timestampGPU, from: source, at: arrival)
            }
            stamp = gpuTime
            senderTime = session.calibration.cpuTime(forGPUTime: gpuTime)
        case .cpu(let reading):
            guard let cpuTime = session.calibration.cpuTime(forCPUTimestamp: reading) else {
                return rejectTimestamp(.timestampCPU, from: source, at: arrival)
            }
            stamp = cpuTime
            senderTime = cpuTime
        }
        // A frame's stamp is its audio's time, which a sender sends ahead of or after: a measure
        // of the clock only from a sender that sends no blocks.
        if let senderTime, !session.sendsCalibration { session.host.addOneWay(senderTime: senderTime, arrival: arrival) }

        let frameCount = sampleCount / header.channelCount.rawValue
        guard let stream = stream(in: session, header, stampsOnGPU: header.timestamp.isGPU, at: arrival) else { return }
        switch stream.receive(stamp: stamp, sequence: header.sequence, samples: UnsafeBufferPointer(rebasing: samples[..<sampleCount]),
                              frameCount: frameCount, session: session, arrival: arrival) {
        case .offTheLine:
            rejectTimestamp(header.timestamp.isGPU ? .timestampGPU : .timestampCPU, from: source, at: arrival)
        case .written(let outcome, let reordered, let firstSampleTime):
            if let firstSampleTime { measureArrival(of: stream, firstSampleTime: firstSampleTime, arrival: arrival, source: source) }
            switch outcome {
            case .stored: if reordered { counters.reordered.add() }
            case .late: counters.late.add()
            case .duplicate: counters.duplicates.add()
            case .full, .tooLarge: counters.overflows.add()
            }
        }
    }

    /// Counts a frame whose timestamp, in its session's unit and clock, lies beyond what can be played.
    private func rejectTimestamp(_ field: FieldName, from source: SourceKey, at now: Nanoseconds) {
        counters.rejected(.invalidField).add()
        tell(.invalidField(InvalidField(field, .outOfRange(allowed: "within ±2^62 ns, in its session's unit and on its stream's line"))),
             from: source, at: now)
    }

    /// Records how long before playback mixes it the frame whose first sample is heard at
    /// `firstSampleTime` (less the latency) arrived, and reports a stream that needs more latency
    /// than the player's (once a stream has a window of frames; again at most every 10 s).
    private func measureArrival(of stream: IngestStream, firstSampleTime: Nanoseconds, arrival: Nanoseconds, source: SourceKey) {
        guard let schedule = configuration.deviceSchedule?.schedule,
              let needed = schedule.latencyNeeded(firstSample: firstSampleTime, arrival: arrival),
              let neededLater = schedule.latencyNeeded(firstSample: firstSampleTime, arrival: arrival + LatencyChooser.margin) else { return }
        // Both within the network's limit (`latencyNeeded` checked): their difference, and the
        // margin added, fit.
        let neededWithMargin = neededLater + LatencyChooser.latencyMargin
        stream.arrivals.record(lateness: arrival - firstSampleTime, needed: needed, neededWithMargin: neededWithMargin)
        guard let latency = configuration.latency else { return }
        if let raised = latencyChooser?.frameNeeded(neededWithMargin, current: latency.target, at: arrival) { latency.target = raised }
        // What the latency cannot be raised to is reported (the quantile, a sort, only when this
        // frame came too late and a report may be due).
        let limit = configuration.automaticLatencyCeiling ?? latency.target
        guard needed > limit, stream.arrivals.count >= StreamArrivals.enoughToChoose,
              stream.lastLatencyReport.map({ arrival - $0 >= .seconds(10) || arrival < $0 }) ?? true,
              let high = stream.arrivals.latencyNeeded(quantile: 0.99), high > limit else { return }
        stream.lastLatencyReport = arrival
        report(.latencyShort(source: source, streamID: stream.streamID, needed: high, latency: limit),
               kind: "latency-short", from: source, at: arrival)
    }

    private func stream(in session: IngestSession, _ header: AudioFrameHeader, stampsOnGPU: Bool, at now: Nanoseconds) -> IngestStream? {
        if let existing = session.streams[header.streamID] {
            if existing.sampleRate == header.sampleRate && existing.channels == header.channelCount && existing.stampsOnGPU == stampsOnGPU {
                return existing
            }
            // A new format is a new stream (the old one ends here), but not more than once in the hold-off.
            guard now - existing.started >= configuration.formatChangeHoldoff || now < existing.started else {
                counters.refusedFormatChanges.add()
                return nil
            }
            end(existing, of: session)
        }
        guard streamCount < configuration.maximumStreams else {
            if counters.refusedStreams.value == 0 { sessionEvents?(.refused(source: session.source, what: "a stream")) }
            counters.refusedStreams.add()
            return nil
        }
        guard let stream = IngestStream(
            streamID: header.streamID, sampleRate: header.sampleRate, channels: header.channelCount, stampsOnGPU: stampsOnGPU,
            ringDuration: configuration.ringDuration, budget: budget, concealment: configuration.concealment,
            gapRevealed: configuration.gapRevealed, timeline: configuration.timeline, now: now)
        else {
            counters.refusedBuffers.add()
            report(.outOfBufferMemory(source: session.source, streamID: header.streamID), kind: "out-of-buffer-memory", from: session.source, at: now)
            return nil
        }
        session.streams[header.streamID] = stream
        streamEvents?(stream, true)
        streamCount += 1
        counters.streamsActive.add()
        return stream
    }

    // MARK: - Sessions

    /// Who a session is: its source and `session_id`; with keys, its key and `session_id`.
    private func key(for source: SourceKey, _ sessionID: String?, signer: AuthenticatedLine?) -> Key {
        signer.map { Key(keyID: $0.keyID, sessionID: sessionID) } ?? Key(source: source, sessionID: sessionID)
    }

    /// The session a line belongs to, made on its first line; nil when its line is a replay or the
    /// session limit is reached.
    private func session(for source: SourceKey, _ sessionID: String?, signer: AuthenticatedLine?, at now: Nanoseconds) -> IngestSession? {
        let key = key(for: source, sessionID, signer: signer)
        if let session = sessions[key] {
            return admit(signer, to: session, from: source, at: now) ? session : nil
        }
        let sameHost = isSameHost(source)
        // With keys, a session from another host must first prove it is live, not a recording.
        let verified = signer == nil || sameHost
        if !verified { makeRoomForUnverifiedSession() }
        guard sessions.count < configuration.maximumSessions else {
            if counters.refusedSessions.value == 0 { sessionEvents?(.refused(source: source, what: "a session")) }
            counters.refusedSessions.add()
            return nil
        }
        let session = IngestSession(source: source, sessionID: sessionID, sameHost: sameHost, now: now,
                                    signer: signer.flatMap { keys?.key($0.keyID) }.map { LineSigner(key: $0, firstCounter: Self.probeCounterStart()) },
                                    verified: verified)
        if let signer { _ = session.replayWindow.accept(signer.counter) }
        sessions[key] = session
        counters.sessionsActive.add()
        if verified { startPlaying(session, key) }
        // A remote sender is probed at once (an unverified one's probe carries its challenge):
        // its clock mapping starts from the first echo, not from the next round of probes.
        if !sameHost { send?(source, probe(to: session, now: now)) }
        return session
    }

    /// Whether a line of `session` may count (with keys: its counter is fresh); it then marks the
    /// session active and, with keys, follows the session to the line's source.
    private func admit(_ signer: AuthenticatedLine?, to session: IngestSession, from source: SourceKey, at now: Nanoseconds) -> Bool {
        if let signer {
            guard session.replayWindow.accept(signer.counter) else {
                refuse(.replayed, from: source, at: now)
                return false
            }
            session.source = source
        }
        session.lastActivity = now
        return true
    }

    /// A session from another host answered its challenge: it plays from now on.
    private func verify(_ session: IngestSession, _ key: Key) {
        session.isVerified = true
        startPlaying(session, key)
    }

    /// Makes `session` its source's current one (a restart ends the previous) and tells of it.
    private func startPlaying(_ session: IngestSession, _ key: Key) {
        let source = session.source
        if let previous = currentSession[source], previous != key, let ending = sessions[previous] {
            // A restart: the previous session keeps what it has queued and ends.
            ending.isEnding = true
            sessionEvents?(.restarted(source: source, previous: previous.sessionID, sessionID: key.sessionID))
        }
        currentSession[source] = key
        sessionEvents?(.started(source: source, sessionID: key.sessionID))
    }

    /// Ends the oldest unverified session when ``IngestConfiguration/maximumUnverifiedSessions``
    /// await their challenge: replayed recordings cannot hold more slots than that.
    private func makeRoomForUnverifiedSession() {
        let waiting = sessions.filter { !$0.value.isVerified }
        guard waiting.count >= configuration.maximumUnverifiedSessions,
              let oldest = waiting.min(by: { $0.value.startedAt < $1.value.startedAt }) else { return }
        end(oldest.key, oldest.value)
    }

    /// Where a session's probe counter starts: the wall clock in nanoseconds, so that it keeps
    /// rising across restarts of this receiver (a sender's replay window sees no reuse).
    private static func probeCounterStart() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(max(now.tv_sec, 0)) &* 1_000_000_000 &+ UInt64(max(now.tv_nsec, 0))
    }

    /// Ends one stream of a session: playback lets go of it.
    private func end(_ stream: IngestStream, of session: IngestSession) {
        streamEvents?(stream, false)
        session.streams[stream.streamID] = nil
        streamCount -= 1
        counters.streamsActive.subtract()
    }

    private func end(_ key: Key, _ session: IngestSession) {
        for stream in session.streams.values { streamEvents?(stream, false) }
        sessions[key] = nil
        // (A session that moved may be its first source's current one too.)
        currentSession = currentSession.filter { $0.value != key }
        counters.sessionsActive.subtract()
        streamCount -= session.streams.count
        counters.streamsActive.subtract(session.streams.count)
    }
}

extension AudioFrameHeader.Timestamp {
    var isGPU: Bool {
        if case .gpu = self { return true }
        return false
    }
}
