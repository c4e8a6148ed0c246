import Buffer
import Clock
import Core
import Wire

/// The receiver's sessions and streams: every decoded line goes through here.
///
/// A session is (source, `session_id`); a new `session_id` from the same source is a restart:
/// the old session plays out and ends. A stream's rate, channel count and stamp clock are fixed
/// by its first frame; a change starts a new stream. Calibration blocks and clock echoes feed the
/// session's clocks; frames go to their stream (``IngestStream``), which places and stores them.
/// Everything bad is counted and dropped; limits bound what any sender can make the receiver
/// hold: sessions, streams, ring memory (``BufferBudget``), format changes (one a second per
/// stream), probes awaiting echoes, and reports to the log (the first of each class from each
/// address, at most ``reportsPerMinute`` of a class whatever the address).
/// Thread: the ingest event loop only (it is the rings' producer).
public final class SessionTable {
    private struct Key: Hashable {
        var source: SourceKey
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
    /// The newest `session_id` each source has used.
    private var currentSession: [SourceKey: String?] = [:]
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

    /// Told when a stream starts (its first frame) and when it ends (its session ends, or its
    /// format changes): playback attaches and detaches it. Called on the ingest thread.
    public typealias StreamEvents = @Sendable (_ stream: IngestStream, _ started: Bool) -> Void
    /// Told of session changes and (rate-limited) bad input, for the log. Called on the ingest thread.
    public typealias SessionEvents = @Sendable (SessionEvent) -> Void

    /// Makes an empty table. `isSameHost` tells the sources on this host (by default: loopback);
    /// `budget` is the rings' memory (by default one of the configuration's size).
    public init(configuration: IngestConfiguration = IngestConfiguration(), counters: IngestCounters = IngestCounters(),
                budget: BufferBudget? = nil, isSameHost: @escaping @Sendable (SourceKey) -> Bool = { $0.isLoopback },
                streamEvents: StreamEvents? = nil, sessionEvents: SessionEvents? = nil) {
        self.configuration = configuration
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

    /// The session `sessionID` of `source`, if active.
    public func session(_ source: SourceKey, _ sessionID: String?) -> IngestSession? { sessions[Key(source: source, sessionID: sessionID)] }

    /// Takes one line (without its line ending) from `source`, which arrived at `arrival` (local clock).
    public func receive(_ line: UnsafeRawBufferPointer, from source: SourceKey, at arrival: Nanoseconds) {
        let transport = source.transport == .tcp ? counters.tcp : counters.udp
        transport.messages.add()
        transport.bytes.add(line.count)
        switch decoder.decode(line, samples: samples) {
        case .rejected(let rejection):
            counters.rejected(rejection.lineClass).add()
            tell(rejection, from: source, at: arrival)
        case .syncCalibration(let block):
            guard let session = session(for: source, block.sessionID, at: arrival) else { return }
            let mode = session.calibration.status.mode
            let outcome = session.calibration.add(
                CalibrationBlock(cpuTimestamp: block.timestampCPU, gpuTimestamp: block.timestampGPU, unit: block.unit,
                                 counterBits: block.timestampBits, maxDeviation: block.maxDeviation),
                receivedAt: arrival)
            if outcome == .invalid { return rejectTimestamp(.timestampGPU, from: source, at: arrival) }
            if outcome == .relocked { sessionEvents?(.relocked(source: source, sessionID: session.sessionID)) }
            let newMode = session.calibration.status.mode
            if newMode != mode { sessionEvents?(.calibrated(source: source, sessionID: session.sessionID, mode: newMode)) }
        case .clockEcho(let echo):
            // Only an answer to a probe we sent, with its very send time: anything else could move the session's clock.
            guard let session = sessions[Key(source: source, sessionID: echo.sessionID)],
                  let probe = session.outstandingProbes.firstIndex(where: { $0.id == echo.probeID && $0.sent == echo.probeSent })
            else {
                counters.unexpectedEchoes.add()
                report(.unexpectedEcho(source: source, sessionID: echo.sessionID), kind: "unexpected-echo", from: source, at: arrival)
                return
            }
            session.outstandingProbes.remove(at: probe)
            session.lastActivity = arrival
            session.host.addExchange(probeSent: echo.probeSent, probeReceived: echo.probeReceived, echoSent: echo.echoSent, echoReceived: arrival)
        case .clockProbe:
            break  // probes go from receivers to senders; one sent to us asks nothing we answer
        case .audioFrame(let header, let sampleCount, let clipped):
            if clipped > 0 { counters.clippedSamples.add(clipped) }
            receiveFrame(header, sampleCount: sampleCount, from: source, at: arrival)
        }
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
    private func report(_ event: SessionEvent, kind: String, from source: SourceKey, at now: Nanoseconds) {
        guard let sessionEvents else { return }
        let key = "\(source.address) \(kind)"
        guard !told.contains(key) else { return }
        var window = reportWindows[kind] ?? (now, 0, 0)
        if now - window.start >= .seconds(60) || now < window.start { window = (now, 0, window.withheld) }
        guard window.told < Self.reportsPerMinute else {
            window.withheld += 1
            reportWindows[kind] = window
            return
        }
        if told.count >= Self.toldBound { told.removeAll() }
        told.insert(key)
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
        sessions.values.filter { $0.host.mode != .sameHost && !$0.isEnding }.map { session in
            nextProbeID &+= 1
            session.outstandingProbes.append((nextProbeID, now))
            if session.outstandingProbes.count > configuration.outstandingProbes { session.outstandingProbes.removeFirst() }
            var line: [UInt8] = []
            // Cannot fail: ids come from the wire, where they were checked against the same limits.
            try? JamnetEncoder().encode(ClockProbe(probeID: nextProbeID, probeSent: now, sessionID: session.sessionID), into: &line)
            return (session.source, line + [UInt8(ascii: "\n")])
        }
    }

    /// Ends the sessions silent for longer than the session timeout, freeing their streams.
    public func expire(now: Nanoseconds) {
        for (key, session) in sessions where now - session.lastActivity > configuration.sessionTimeout {
            end(key, session)
            sessionEvents?(.ended(source: key.source, sessionID: key.sessionID))
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

    private func receiveFrame(_ header: AudioFrameHeader, sampleCount: Int, from source: SourceKey, at arrival: Nanoseconds) {
        guard let session = session(for: source, header.sessionID, at: arrival), sampleCount > 0 else { return }
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
        if let senderTime { session.host.addOneWay(senderTime: senderTime, arrival: arrival) }

        let frameCount = sampleCount / header.channelCount.rawValue
        guard let stream = stream(in: session, header, stampsOnGPU: header.timestamp.isGPU, at: arrival) else { return }
        switch stream.receive(stamp: stamp, sequence: header.sequence, samples: UnsafeBufferPointer(rebasing: samples[..<sampleCount]),
                              frameCount: frameCount, session: session) {
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
            ringDuration: configuration.ringDuration, budget: budget, now: now)
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

    private func session(for source: SourceKey, _ sessionID: String?, at now: Nanoseconds) -> IngestSession? {
        let key = Key(source: source, sessionID: sessionID)
        if let session = sessions[key] {
            session.lastActivity = now
            return session
        }
        if let previous = currentSession[source], previous != sessionID {
            // A restart: the previous session keeps what it has queued and ends.
            sessions[Key(source: source, sessionID: previous)]?.isEnding = true
            sessionEvents?(.restarted(source: source, previous: previous, sessionID: sessionID))
        }
        guard sessions.count < configuration.maximumSessions else {
            if counters.refusedSessions.value == 0 { sessionEvents?(.refused(source: source, what: "a session")) }
            counters.refusedSessions.add()
            return nil
        }
        let session = IngestSession(source: source, sessionID: sessionID, sameHost: isSameHost(source), now: now)
        sessions[key] = session
        currentSession[source] = sessionID
        counters.sessionsActive.add()
        sessionEvents?(.started(source: source, sessionID: sessionID))
        return session
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
        if currentSession[key.source] == key.sessionID { currentSession[key.source] = nil }
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
