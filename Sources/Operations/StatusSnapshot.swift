import Authentication
import Clock
import Core
import Ingest
import Playback
import Receiver
import Wire

/// What the player is doing, at one instant: the device, every session with its clocks and
/// streams, and the counters. `/status` serves it as JSON; `/metrics` is made from it.
///
/// Thread: made on any thread (the sessions are read on the ingest event loop).
public struct StatusSnapshot: Codable, Sendable {
    /// The playback device as opened.
    public struct Device: Codable, Sendable {
        /// The ALSA name asked for.
        public var name: String
        /// Whether it is open and playing now (false while it is being reopened).
        public var open: Bool
        /// Sample format, rate, channels, period and buffer the device granted.
        public var format: String, rate: Int, channels: Int, periodFrames: Int, bufferFrames: Int
        /// Whether the device paces writes (false: jamplay paces itself, a virtual DAC).
        public var pacesWrites: Bool
        /// How long before the device takes a period jamplay writes it now (raised by underruns).
        public var fillNanoseconds: Int64
        /// The fill, the time a period takes to mix and write, and a period: how long before it
        /// is heard a sample must be in its buffer, the least latency.
        public var devicePathNanoseconds: Int64
    }

    /// One sender's GPU clock against its CPU clock (`sync_calibration_block`s).
    public struct Calibration: Codable, Sendable {
        /// `uncalibrated`, `offset-only` or `drift`.
        public var mode: String
        /// GPU − CPU, nanoseconds; the GPU clock's rate against the CPU's, ppm.
        public var offsetNanoseconds: Int64, skewPPM: Double
        /// RMS residual of the fit, nanoseconds.
        public var residualNanoseconds: Int64
        /// Blocks in the fit, outliers rejected, re-locks after a jump.
        public var blocksUsed: Int, outliersRejected: Int, relocks: Int
        /// Seconds since the last block (nil: none yet).
        public var lastBlockAgeSeconds: Double?
    }

    /// The sender's CPU clock against this host's.
    public struct HostClock: Codable, Sendable {
        /// `same-host`, `two-way` (clock_probe answered), `one-way` (no answer: path delay in the latency) or `unknown`.
        public var mode: String
        /// Sender − local, nanoseconds, and the sender clock's rate against ours, ppm.
        public var offsetNanoseconds: Int64, skewPPM: Double
        /// Smallest round trip of the exchanges, nanoseconds (two-way only).
        public var bestRoundTripNanoseconds: Int64?
        /// How far off the mapping may be, nanoseconds: two-way, half the round trip of the
        /// exchanges it is fitted through (weighted); 0 on this host; absent one-way (the unseen
        /// path delay is in the offset).
        public var errorBoundNanoseconds: Int64?
        /// How far its samples lie from it (root mean square), nanoseconds.
        public var residualNanoseconds: Int64
    }

    /// One stream of a session.
    public struct Stream: Codable, Sendable {
        /// `stream_id` (nil: the session's only stream).
        public var id: String?
        /// Nominal rate and channels from its first frame.
        public var sampleRate: Int, channels: Int
        /// Its sample clock against this host's, ppm, and the times its timeline re-anchored.
        public var driftPPM: Double, reanchors: Int
        /// Audio in its ring ahead of what is being played (the jitter buffer's fill), seconds.
        public var bufferedSeconds: Double
        /// Frames stored in its ring, and lost to lateness, duplicates, reordering undone, gaps.
        public var framesStored: Int, framesLate: Int, duplicates: Int, reordered: Int, gapFrames: Int
        /// Frames played from predictions where its own were missing, and the longest gap so
        /// concealed, seconds (concealment on).
        public var concealedFrames: Int, longestConcealedGapSeconds: Double
        /// The least latency at which 99 % of its recent frames were in its ring before the period
        /// playing their first sample was mixed (nil before any was measured).
        public var latencyNeededNanoseconds: Int64?
        /// How long before that its recent frames arrived at the latency in force: half of them
        /// with at least the first, 99 % with at least the second (negative: that late).
        public var arrivalMarginP50Nanoseconds: Int64?, arrivalMarginP99Nanoseconds: Int64?
    }

    /// One sender's session.
    public struct Session: Codable, Sendable {
        /// `tcp 10.0.0.5:51234` or `udp ...`.
        public var source: String
        /// The sender's `session_id`.
        public var sessionID: String?
        /// Seconds since its last message; whether it is playing out after a restart.
        public var idleSeconds: Double, ending: Bool
        /// With keys: the key that signs its lines, and whether it may play (a session from
        /// another host once it has answered a challenge).
        public var keyID: String?, verified: Bool
        public var calibration: Calibration
        public var hostClock: HostClock
        public var streams: [Stream]
    }

    /// `jamplay --version`.
    public var version: String
    /// Seconds since the player started.
    public var uptimeSeconds: Double
    /// Every sample is heard at its time plus this now, nanoseconds (the output offset included).
    public var latencyNanoseconds: Int64
    /// `--output-offset`: how much of the latency is this box's own offset, nanoseconds.
    public var outputOffsetNanoseconds: Int64
    /// Where the latency is moving to (the same, unless it is moving).
    public var latencyTargetNanoseconds: Int64
    /// With `--latency auto`, the most it may become (nil: the latency is fixed).
    public var maximumLatencyNanoseconds: Int64?
    public var device: Device?
    public var sessions: [Session]
    /// Every counter of ingest and playback, by its metric name (without `jamplay_`).
    public var counters: [String: Int]
    /// Lines rejected, by class (`json-error`, `unsupported-version`, ...).
    public var rejectedLines: [String: Int]
    /// With keys: lines dropped by authentication, by reason (`unauthenticated`, `bad-mac`, ...).
    public var unauthenticatedLines: [String: Int]

    /// Takes a snapshot of `receiver` at `now`; `started` is when the player started.
    public static func take(of receiver: Receiver, version: String, started: Nanoseconds, now: Nanoseconds) async throws -> StatusSnapshot {
        let latency = receiver.playback.latency.inForce
        let sessions = try await receiver.ingest.withTable { table in
            table.activeSessions.map { Self.session($0, now: now, latency: latency) }.sorted { ($0.source, $0.sessionID ?? "") < ($1.source, $1.sessionID ?? "") }
        }
        let engine = receiver.playback
        let device = engine.negotiated.map { granted in
            Device(name: engine.configuration.device.name, open: engine.deviceIsOpen, format: "\(granted.format)", rate: granted.rate.hertz,
                   channels: granted.channels.rawValue, periodFrames: granted.periodFrames, bufferFrames: granted.bufferFrames,
                   pacesWrites: engine.devicePaces, fillNanoseconds: engine.fill.rawValue, devicePathNanoseconds: engine.devicePath.rawValue)
        }
        return StatusSnapshot(version: version, uptimeSeconds: (now - started).seconds, latencyNanoseconds: engine.latency.inForce.rawValue,
                              outputOffsetNanoseconds: engine.configuration.outputOffset.rawValue,
                              latencyTargetNanoseconds: engine.latency.target.rawValue,
                              maximumLatencyNanoseconds: engine.configuration.automaticLatencyCeiling?.rawValue,
                              device: device, sessions: sessions, counters: Self.counters(of: receiver),
                              rejectedLines: Self.rejectedLines(of: receiver.ingestCounters),
                              unauthenticatedLines: Self.unauthenticatedLines(of: receiver.ingestCounters))
    }

    private static func session(_ session: IngestSession, now: Nanoseconds, latency: Nanoseconds) -> Session {
        let calibration = session.calibration.status, host = session.host.status
        let streams = session.streams.values.map { stream in
            let ring = stream.ring
            let needed = (stream.arrivals.latencyNeeded(quantile: 0.5), stream.arrivals.latencyNeeded(quantile: 0.99))
            return Stream(id: stream.streamID, sampleRate: stream.sampleRate.hertz, channels: stream.channels.rawValue,
                          driftPPM: stream.timeline.driftPPM, reanchors: stream.timeline.reanchors,
                          bufferedSeconds: Double(ring.bufferedSamples) / Double(stream.sampleRate.hertz), framesStored: ring.stored,
                          framesLate: ring.late, duplicates: ring.duplicates, reordered: ring.reordered, gapFrames: ring.gapFrames,
                          concealedFrames: stream.handoff.concealedFrames.value,
                          longestConcealedGapSeconds: Double(stream.handoff.longestConcealedGap.value) / Double(stream.sampleRate.hertz),
                          latencyNeededNanoseconds: needed.1?.rawValue,
                          arrivalMarginP50Nanoseconds: needed.0.map { (latency - $0).rawValue },
                          arrivalMarginP99Nanoseconds: needed.1.map { (latency - $0).rawValue })
        }.sorted { ($0.id ?? "") < ($1.id ?? "") }
        return Session(
            source: session.source.description, sessionID: session.sessionID, idleSeconds: max(0, (now - session.lastActivity).seconds),
            ending: session.isEnding, keyID: session.keyID, verified: session.isVerified,
            calibration: Calibration(mode: calibration.mode.rawValue, offsetNanoseconds: calibration.offset.rawValue, skewPPM: calibration.skewPPM,
                                     residualNanoseconds: calibration.residual.rawValue, blocksUsed: calibration.blocksUsed,
                                     outliersRejected: calibration.outliersRejected, relocks: calibration.relocks,
                                     lastBlockAgeSeconds: calibration.age(now: now)?.seconds),
            hostClock: HostClock(mode: host.mode.rawValue, offsetNanoseconds: host.offset.rawValue, skewPPM: host.skewPPM,
                                 bestRoundTripNanoseconds: host.bestRoundTrip?.rawValue, errorBoundNanoseconds: host.errorBound?.rawValue,
                                 residualNanoseconds: host.residual.rawValue),
            streams: streams)
    }

    /// The counters, by metric name: `_total` for counts, bare for levels.
    static func counters(of receiver: Receiver) -> [String: Int] {
        let ingest = receiver.ingestCounters, playback = receiver.playbackCounters
        return [
            "ingest_tcp_messages_total": ingest.tcp.messages.value, "ingest_tcp_bytes_total": ingest.tcp.bytes.value,
            "ingest_udp_messages_total": ingest.udp.messages.value, "ingest_udp_bytes_total": ingest.udp.bytes.value,
            "ingest_late_frames_total": ingest.late.value, "ingest_duplicate_frames_total": ingest.duplicates.value,
            "ingest_reordered_frames_total": ingest.reordered.value, "ingest_uncalibrated_frames_total": ingest.uncalibrated.value,
            "ingest_clipped_samples_total": ingest.clippedSamples.value, "ingest_ring_overflows_total": ingest.overflows.value,
            "ingest_refused_sessions_total": ingest.refusedSessions.value, "ingest_refused_streams_total": ingest.refusedStreams.value,
            "ingest_refused_connections_total": ingest.refusedConnections.value, "ingest_disallowed_total": ingest.disallowed.value,
            "ingest_unexpected_echoes_total": ingest.unexpectedEchoes.value, "ingest_refused_buffers_total": ingest.refusedBuffers.value,
            "ingest_refused_format_changes_total": ingest.refusedFormatChanges.value,
            "ingest_buffer_bytes": receiver.ingest.budget.usedBytes.rawValue,
            "ingest_sessions_active": ingest.sessionsActive.value, "ingest_streams_active": ingest.streamsActive.value,
            "playback_periods_total": playback.periods.value, "playback_underruns_total": playback.xruns.value,
            "playback_device_reopenings_total": playback.reopenings.value, "playback_silent_frames_total": playback.silentFrames.value,
            "playback_concealed_frames_total": playback.concealedFrames.value,
            "playback_longest_concealed_gap_nanoseconds": playback.longestConcealedGap.value,
            "playback_device_slips_total": playback.deviceSlips.value, "playback_stream_reanchors_total": playback.streamReanchors.value,
            "playback_clipped_samples_total": playback.clippedSamples.value,
            "playback_dropped_channel_samples_total": playback.droppedChannelSamples.value,
            "playback_streams_playing": playback.streamsPlaying.value,
            "playback_presentation_error_nanoseconds": playback.presentationError.value,
            "playback_fill_nanoseconds": playback.fill.value, "playback_render_nanoseconds": playback.renderTime.value,
        ]
    }

    static func unauthenticatedLines(of ingest: IngestCounters) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: AuthenticationFailure.allCases.map { ($0.rawValue, ingest.authenticationFailed($0).value) })
    }

    static func rejectedLines(of ingest: IngestCounters) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: LineClass.allCases.filter { $0 != .ok }.map { ($0.rawValue, ingest.rejected($0).value) })
    }
}
