import Buffer
import Clock
import Core
import Wire

/// The receiver's sessions and streams: every decoded line goes through here.
///
/// A session is (source, `session_id`); a new `session_id` from the same source is a restart:
/// the old session plays out and ends. A stream's rate, channel count and stamp clock are fixed
/// by its first frame; a change starts a new stream. Calibration blocks and clock echoes feed the
/// session's clocks; frames go through the stream's timeline into its ring. Everything bad is
/// counted and dropped; limits bound what any sender can make the receiver hold.
/// Thread: the ingest event loop only (it is the rings' producer).
public final class SessionTable {
    private struct Key: Hashable {
        var source: SourceKey
        var sessionID: String?
    }

    public let configuration: IngestConfiguration
    public let counters: IngestCounters
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

    /// Told when a stream starts (its first frame) and when it ends (its session ends, or its
    /// format changes): playback attaches and detaches it. Called on the ingest thread.
    public typealias StreamEvents = @Sendable (_ stream: IngestStream, _ started: Bool) -> Void
    /// Told of session changes and (rate-limited) bad input, for the log. Called on the ingest thread.
    public typealias SessionEvents = @Sendable (SessionEvent) -> Void

    /// Makes an empty table. `isSameHost` tells the sources on this host (by default: loopback).
    public init(configuration: IngestConfiguration = IngestConfiguration(), counters: IngestCounters = IngestCounters(),
                isSameHost: @escaping @Sendable (SourceKey) -> Bool = { $0.isLoopback }, streamEvents: StreamEvents? = nil,
                sessionEvents: SessionEvents? = nil) {
        self.configuration = configuration
        self.counters = counters
        self.isSameHost = isSameHost
        self.streamEvents = streamEvents
        self.sessionEvents = sessionEvents
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
            tell(rejection, from: source)
        case .syncCalibration(let block):
            guard let session = session(for: source, block.sessionID, at: arrival) else { return }
            let mode = session.calibration.status.mode
            let outcome = session.calibration.add(
                CalibrationBlock(cpuTimestamp: block.timestampCPU, gpuTimestamp: block.timestampGPU, unit: block.unit,
                                 counterBits: block.timestampBits, maxDeviation: block.maxDeviation),
                receivedAt: arrival)
            if outcome == .relocked { sessionEvents?(.relocked(source: source, sessionID: session.sessionID)) }
            let newMode = session.calibration.status.mode
            if newMode != mode { sessionEvents?(.calibrated(source: source, sessionID: session.sessionID, mode: newMode)) }
        case .clockEcho(let echo):
            guard let session = session(for: source, echo.sessionID, at: arrival) else { return }
            session.host.addExchange(probeSent: echo.probeSent, probeReceived: echo.probeReceived, echoSent: echo.echoSent, echoReceived: arrival)
        case .clockProbe:
            break  // probes go from receivers to senders; one sent to us asks nothing we answer
        case .audioFrame(let header, let sampleCount, let clipped):
            if clipped > 0 { counters.clippedSamples.add(clipped) }
            receiveFrame(header, sampleCount: sampleCount, from: source, at: arrival)
        }
    }

    /// Counts a line the framer discarded as over the limit.
    public func receiveTooLong(from source: SourceKey, length: ByteCount) {
        let transport = source.transport == .tcp ? counters.tcp : counters.udp
        transport.messages.add()
        transport.bytes.add(length.rawValue)
        counters.rejected(.lineTooLong).add()
        tell(.lineTooLong(length, limit: configuration.maximumLineBytes), from: source)
    }

    /// Counts a connection or datagram from outside `--allow`, dropped unread; tells the first from each address.
    public func dropDisallowed(from source: SourceKey) {
        counters.disallowed.add()
        if firstTime("\(source.address) disallowed") { sessionEvents?(.disallowed(source: source)) }
    }

    /// Whether `key` is new to the told set (which is bounded: it forgets all when full).
    private func firstTime(_ key: String) -> Bool {
        guard sessionEvents != nil, !told.contains(key) else { return false }
        if told.count >= Self.toldBound { told.removeAll() }
        told.insert(key)
        return true
    }

    /// Tells the first rejection of each class from each address; the rest are only counted.
    private func tell(_ rejection: LineRejection, from source: SourceKey) {
        if firstTime("\(source.address) \(rejection.lineClass)") { sessionEvents?(.rejected(source: source, rejection: rejection)) }
    }

    /// A `clock_probe` line (with its newline) for each live session of a remote sender, stamped
    /// `now`: the server sends each to its source, and the echoes come back through ``receive``.
    public func probes(now: Nanoseconds) -> [(source: SourceKey, line: [UInt8])] {
        sessions.values.filter { $0.host.mode != .sameHost && !$0.isEnding }.map { session in
            nextProbeID &+= 1
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
    }

    // MARK: - Frames

    private func receiveFrame(_ header: AudioFrameHeader, sampleCount: Int, from source: SourceKey, at arrival: Nanoseconds) {
        guard let session = session(for: source, header.sessionID, at: arrival), sampleCount > 0 else { return }
        let stamp: Nanoseconds, senderTime: Nanoseconds?
        switch header.timestamp {
        case .gpu(let reading):
            guard let gpuTime = session.calibration.gpuTime(forGPUTimestamp: reading) else { counters.uncalibrated.add(); return }
            stamp = gpuTime
            senderTime = session.calibration.cpuTime(forGPUTime: gpuTime)
        case .cpu(let reading):
            guard let cpuTime = session.calibration.cpuTime(forCPUTimestamp: reading) else { counters.rejected(.invalidField).add(); return }
            stamp = cpuTime
            senderTime = cpuTime
        }
        if let senderTime { session.host.addOneWay(senderTime: senderTime, arrival: arrival) }

        let frameCount = sampleCount / header.channelCount.rawValue
        guard let stream = stream(in: session, header, stampsOnGPU: header.timestamp.isGPU, frameCount: frameCount) else { return }
        let placement = stream.timeline.observe(stamp: stamp, sampleCount: frameCount, sequence: header.sequence)
        let reorderedBefore = stream.ring.reordered
        let outcome = stream.ring.write(
            firstSample: placement.firstSample, frameCount: frameCount, samples: UnsafeBufferPointer(rebasing: samples[..<sampleCount]))
        publish(stream, at: placement.firstSample, session: session)
        switch outcome {
        case .stored: if stream.ring.reordered > reorderedBefore { counters.reordered.add() }
        case .late: counters.late.add()
        case .duplicate: counters.duplicates.add()
        case .full, .tooLarge: counters.overflows.add()
        }
    }

    /// Linearizes the stream's clock chain at `index` for playback (nothing while it is not calibrated).
    private func publish(_ stream: IngestStream, at index: Int64, session: IngestSession) {
        let calibration = stream.stampsOnGPU ? session.calibration : nil
        guard let time = ClockChain.localTime(ofSample: index, on: stream.timeline.line, calibration: calibration, host: session.host),
              let rate = ClockChain.localRate(at: index, on: stream.timeline.line, nominalRate: stream.sampleRate,
                                              calibration: calibration, host: session.host)
        else { return }
        stream.published.publish(PublishedTimeline.Line(anchorSample: index, anchorTime: time, samplesPerSecond: rate))
    }

    private func stream(in session: IngestSession, _ header: AudioFrameHeader, stampsOnGPU: Bool, frameCount: Int) -> IngestStream? {
        if let existing = session.streams[header.streamID] {
            if existing.sampleRate == header.sampleRate && existing.channels == header.channelCount && existing.stampsOnGPU == stampsOnGPU {
                return existing
            }
            // A new format is a new stream: the old one ends here.
            streamEvents?(existing, false)
            session.streams[header.streamID] = nil
            streamCount -= 1
            counters.streamsActive.subtract()
        }
        guard streamCount < configuration.maximumStreams else {
            if counters.refusedStreams.value == 0 { sessionEvents?(.refused(source: session.source, what: "a stream")) }
            counters.refusedStreams.add()
            return nil
        }
        let stream = IngestStream(
            streamID: header.streamID, sampleRate: header.sampleRate, channels: header.channelCount, stampsOnGPU: stampsOnGPU,
            firstFrameLength: frameCount, ringDuration: configuration.ringDuration)
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
