import ArgumentParser
import Core
import Ingest
import Logging
import Operations
import Playback
import Receiver
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif


/// `jamplay --listen :9000`: receive jamnet streams and play them on time.
struct PlayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "play",
        abstract: "Receive jamnet/1.x streams over TCP and UDP and play every sample at its time plus the latency (the default command)."
    )

    @Option(help: "[HOST]:PORT to listen on: :9000 (all interfaces, IPv4 and IPv6), 127.0.0.1:9000, [::]:9000, or a multicast group 239.1.2.3:9000.")
    var listen = ":9000"
    @Flag(inversion: .prefixedNo, help: "Listen on TCP.")
    var tcp = true
    @Flag(inversion: .prefixedNo, help: "Listen on UDP.")
    var udp = true
    @Option(help: "ALSA playback device (see jamplay devices).")
    var device = "default"
    @Option(help: "Device sample rate in Hz.")
    var rate = 48_000
    @Option(help: "Device channels.")
    var channels = 2
    @Option(name: .customLong("period-frames"), help: "Frames per device period.")
    var periodFrames = 256
    @Option(help: "Periods in the device buffer: headroom against stalls (the latency does not grow with it).")
    var periods = 3
    @Option(help: "How long before the device takes a period jamplay writes it (e.g. 1.5ms); each underrun adds 0.5ms. With a period it makes the device path, the least --latency.")
    var fill = "1.5ms"
    @Option(help: "Every sample is played at its capture time plus this: auto, the least the streams' frames need (within --max-latency), or a fixed duration such as 20ms (at least the device path the start-up line shows; boxes that must play in step use one fixed latency).")
    var latency = "auto"
    @Option(name: .customLong("max-latency"), help: "With --latency auto: the most it may become.")
    var maxLatency = "200ms"
    @Option(name: .customLong("rt-priority"), help: "SCHED_FIFO priority of the playback thread (0: normal scheduling).")
    var rtPriority: Int32 = 70
    @Option(help: "Also write exactly what is played to this WAV file (32-bit float).")
    var record: String?
    @Option(name: .customLong("multicast-interface"), help: "With a multicast --listen: the interface to join the group on (e.g. eth0; default: the one the system routes the group to).")
    var multicastInterface: String?
    @Option(name: .customLong("max-connections"), help: "Open TCP connections at once; more are closed at once and counted.")
    var maxConnections = 64
    @Option(name: .customLong("max-line-bytes"), help: "Longest line accepted (e.g. 1MiB, 64KiB); longer ones are dropped and counted.")
    var maxLineBytes = "1MiB"
    @Option(name: .customLong("max-sessions"), help: "Sender sessions at once; more are refused and counted.")
    var maxSessions = 32
    @Option(name: .customLong("max-streams"), help: "Streams at once, over all sessions (each takes a playback slot).")
    var maxStreams = 32
    @Option(name: .customLong("max-buffer"), help: "Memory all streams' buffers may take together (e.g. 64MiB); one stream's at most 16MiB or a quarter of it, whichever is less. A stream whose buffer does not fit is refused and counted.")
    var maxBuffer = "64MiB"
    @Option(name: .customLong("session-timeout"), help: "A session silent for this long ends and frees its streams (e.g. 5s).")
    var sessionTimeout = "5s"
    @Option(name: .customLong("idle-timeout"), help: "A TCP connection silent for this long is closed (e.g. 30s).")
    var idleTimeout = "30s"
    @Option(help: "Senders allowed, as addresses or CIDR ranges (192.168.1.0/24,10.0.0.7,fd00::/8), or all. Anything else is dropped unread and counted.")
    var allow = "all"
    @Option(help: "ADDR:PORT serving GET /metrics (Prometheus) and /status (JSON), or off. :9001 is every interface.")
    var http = "127.0.0.1:9001"
    @Option(name: .customLong("log-level"), help: "Least level logged: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"
    @Option(name: .customLong("log-format"), help: "Log lines as text (under systemd: with journal priorities) or json (one object per line).")
    var logFormat = "text"
    @Option(name: .customLong("stats-interval"), help: "How often the stats line is logged (e.g. 10s, 1min), or off; SIGUSR1 logs it at once.")
    var statsInterval = "10s"
    @Option(name: .customLong("trace-timing"), help: "Write the playback loop's timing, period by period, to this CSV file when it stops (diagnosis).")
    var traceTiming: String?

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level \(logLevel): expected one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let format = JamplayLogHandler.Format(rawValue: logFormat) else { throw ValidationError("--log-format \(logFormat): expected text or json") }
        let statsPeriod: Nanoseconds?
        if statsInterval == "off" {
            statsPeriod = nil
        } else if let period = Nanoseconds(duration: statsInterval), period >= .seconds(1) {
            statsPeriod = period
        } else {
            throw ValidationError("--stats-interval \(statsInterval): expected a duration of 1s or more, such as 10s or 1min, or off")
        }
        let toJournal = getenv("JOURNAL_STREAM") != nil
        LoggingSystem.bootstrap { _ in JamplayLogHandler(level: level, format: format, toJournal: toJournal) }
        // Until the service group listens for them (it takes the signals over), a stop signal is
        // remembered rather than fatal, and the player stops as soon as it has started.
        for number in [SIGINT, SIGTERM] {
            signal(number) { number in
                if earlyStop.exchange(true, ordering: .relaxed) { _exit(128 + number) }
            }
        }
        var logger = Logger(label: "jamplay")
        logger[metadataKey: "component"] = "jamplay"
        var configuration: ReceiverConfiguration
        do {
            configuration = ReceiverConfiguration(listen: try ListenAddress(parsing: listen))
        } catch {
            throw ValidationError(error.description)
        }
        configuration.tcp = tcp
        configuration.udp = udp
        guard tcp || udp else { throw ValidationError("--no-tcp and --no-udp together leave nothing to listen on") }
        guard SampleRate.supported.contains(rate) else { throw ValidationError("--rate must be in 1...768000") }
        guard ChannelCount.supported.contains(channels) else { throw ValidationError("--channels must be in 1...64") }
        guard (16...65_536).contains(periodFrames), (2...64).contains(periods) else {
            throw ValidationError("--period-frames must be in 16...65536 and --periods in 2...64")
        }
        guard let ceiling = Nanoseconds(duration: maxLatency), ceiling > .zero, ceiling <= .seconds(2) else {
            throw ValidationError("--max-latency \(maxLatency): expected a duration such as 200ms, up to 2s")
        }
        let automatic = latency == "auto"
        // With auto, the latency starts at 20 ms (the engine keeps it within the device's floor and
        // the ceiling) and follows the streams.
        guard let latencyValue = automatic ? .milliseconds(20) : Nanoseconds(duration: latency),
              latencyValue >= .zero, latencyValue <= .seconds(2) else {
            throw ValidationError("--latency \(latency): expected a duration such as 20ms, up to 2s, or auto")
        }
        guard let fillValue = Nanoseconds(duration: fill), fillValue >= .microseconds(100), fillValue <= .seconds(1) else {
            throw ValidationError("--fill \(fill): expected a duration from 100us to 1s, such as 1.5ms")
        }
        guard (0...99).contains(rtPriority) else { throw ValidationError("--rt-priority must be in 0...99") }
        guard (1...4_096).contains(maxConnections) else { throw ValidationError("--max-connections \(maxConnections): expected 1...4096") }
        guard let lineLimit = ByteCount(size: maxLineBytes), (ByteCount(256)...ByteCount.mebibytes(64)).contains(lineLimit) else {
            throw ValidationError("--max-line-bytes \(maxLineBytes): expected a size from 256B to 64MiB, such as 1MiB")
        }
        guard (1...1_024).contains(maxSessions), (1...1_024).contains(maxStreams) else {
            throw ValidationError("--max-sessions and --max-streams: expected 1...1024")
        }
        guard let bufferLimit = ByteCount(size: maxBuffer), (ByteCount.mebibytes(1)...ByteCount.mebibytes(16_384)).contains(bufferLimit) else {
            throw ValidationError("--max-buffer \(maxBuffer): expected a size from 1MiB to 16GiB, such as 64MiB")
        }
        guard let sessionTimeoutValue = Nanoseconds(duration: sessionTimeout), sessionTimeoutValue >= .milliseconds(100) else {
            throw ValidationError("--session-timeout \(sessionTimeout): expected a duration of 100ms or more, such as 5s")
        }
        guard let idleTimeoutValue = Nanoseconds(duration: idleTimeout), idleTimeoutValue >= .seconds(1) else {
            throw ValidationError("--idle-timeout \(idleTimeout): expected a duration of 1s or more, such as 30s")
        }
        configuration.ingest.multicastInterface = multicastInterface
        configuration.ingest.maximumConnections = maxConnections
        configuration.ingest.maximumLineBytes = lineLimit
        configuration.ingest.maximumSessions = maxSessions
        configuration.ingest.maximumStreams = maxStreams
        configuration.ingest.maximumBufferBytes = bufferLimit
        configuration.ingest.maximumStreamBufferBytes = min(ByteCount.mebibytes(16), ByteCount(bufferLimit.rawValue / 4))
        configuration.ingest.sessionTimeout = sessionTimeoutValue
        configuration.ingest.idleConnectionTimeout = idleTimeoutValue
        configuration.playback.maximumStreams = maxStreams
        if allow != "all" {
            do {
                configuration.ingest.allowed = try AddressAllowList(parsing: allow)
            } catch {
                throw ValidationError("--allow: \(error)")
            }
        }
        let httpAddress: ListenAddress?
        do {
            httpAddress = http == "off" ? nil : try ListenAddress(parsing: http)
        } catch {
            throw ValidationError("--http \(http): expected ADDR:PORT such as 127.0.0.1:9001 or :9001, or off")
        }
        configuration.playback.device.name = device
        configuration.playback.device.rate = SampleRate(hertz: rate)
        configuration.playback.device.channels = ChannelCount(channels)
        configuration.playback.device.periodFrames = periodFrames
        configuration.playback.device.periods = periods
        configuration.playback.latency = latencyValue
        configuration.playback.automaticLatencyCeiling = automatic ? ceiling : nil
        configuration.playback.fill = fillValue
        configuration.playback.realtimePriority = rtPriority
        configuration.playback.recordPath = record
        configuration.playback.timingTracePath = traceTiming

        logger.info("""
            jamplay \(Jamplay.configuration.version): listen \(configuration.listen) (\(tcp ? "TCP" : "")\(tcp && udp ? ", " : "")\(udp ? "UDP" : "")), \
            device \(device) \(rate) Hz \(channels) ch, period \(periodFrames) × \(periods), fill \(fillValue), latency \(automatic ? "auto (up to \(ceiling))" : "\(latencyValue)"), rt-priority \(rtPriority), \
            max-buffer \(bufferLimit), allow \(allow), http \(http), log \(logLevel) \(logFormat), stats \(statsInterval)\(record.map { ", record \($0)" } ?? "")
            """)
        let receiver = Receiver(configuration: configuration, logger: logger)
        do {
            let ports = try await receiver.start()
            logger.notice("listening on \(configuration.listen) (TCP \(ports.tcp.map(String.init) ?? "off"), UDP \(ports.udp.map(String.init) ?? "off")), latency \(automatic ? "auto, now \(receiver.playback.latency.target)" : "\(latencyValue)")")
        } catch let error as AlsaError {
            logger.error("\(error)")
            // Only when ALSA itself failed: a --record path or a latency below the floor is not the device's fault.
            if error.code != 0 {
                let names = AlsaPCM.playbackDeviceHints().map(\.name)
                logger.error("the playback devices here: \(names.joined(separator: ", ")); `jamplay devices` describes them, --device chooses one")
            }
            throw ExitCode.failure
        } catch let error as IngestError {
            logger.error("cannot listen on \(configuration.listen): \(error)")
            throw ExitCode.failure
        } catch {
            logger.error("cannot listen on \(configuration.listen): \(error)")
            logger.error("another program (another jamplay?) may hold the port; --listen chooses another")
            throw ExitCode.failure
        }
        var operations: OperationsServer?
        if let httpAddress {
            do {
                let responder = StatusEndpoints.responder(for: receiver, version: Jamplay.configuration.version, started: SystemMonotonicClock().now())
                let server = try await OperationsServer.start(host: httpAddress.host ?? "::", port: httpAddress.port, responder: responder)
                operations = server
                let shown = httpAddress.host.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "[::]"
                logger.notice("metrics and status on http://\(shown):\(server.port)/metrics and /status")
            } catch {
                logger.error("cannot serve HTTP on \(httpAddress): \(error)")
                logger.error("--http chooses another ADDR:PORT, --http off turns it off")
                try? await receiver.stop()
                throw ExitCode.failure
            }
        }
        // The stats line, the player and the escalation on a second signal, under one service group
        // that turns SIGTERM and SIGINT into a graceful shutdown (at most a second).
        let stats = StatsService(reporter: StatsReporter(receiver: receiver, logger: logger, now: SystemMonotonicClock().now()), interval: statsPeriod)
        let player = PlayerService(receiver: receiver, operations: operations, logger: logger)
        var group = ServiceGroupConfiguration(
            services: [.init(service: SecondSignalService()), .init(service: player, successTerminationBehavior: .gracefullyShutdownGroup),
                       .init(service: stats)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "jamplay.lifecycle") { _ in SwiftLogNoOpLogHandler() })
        group.maximumGracefulShutdownDuration = .seconds(1)
        try await ServiceGroup(configuration: group).run()
    }
}
