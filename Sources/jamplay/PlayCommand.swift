import ArgumentParser
import Core
import Ingest
import Logging
import Operations
import Playback
import Realtime
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
    @Option(name: .customLong("output-offset"), help: "Play this much later than the latency says: a speaker's own delay, to line boxes up (negative: earlier, as --output-offset=-2ms). Needs a fixed --latency; the two together must reach the device's floor.")
    var outputOffset = "0"
    @Option(name: .customLong("max-latency"), help: "With --latency auto: the most it may become.")
    var maxLatency = "200ms"
    @Option(name: .customLong("rt-priority"), help: "SCHED_FIFO priority of the playback thread (0: normal scheduling).")
    var rtPriority: Int32 = 70
    @Option(help: "Fill a stream's lost or late frames with audio predicted from around them (on: from both sides where the frames after have come, faded to silence after 60ms), or play silence (off).")
    var conceal = "on"
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
    @Option(help: "Play only lines signed with one of the keys in FILE (jamnet/1.2; one a line: ID HEX-SECRET of 32 bytes or more; the file must be private to its owner); SIGHUP reloads it.")
    var keys: String?
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

    func validate() throws {
        _ = try settings()
    }

    func run() async throws {
        let settings = try self.settings()
        let configuration = settings.receiver
        let automatic = configuration.playback.automaticLatencyCeiling != nil
        let latencyValue = configuration.playback.latency
        let outputOffsetText = configuration.playback.outputOffset == .zero ? "" : " + output offset \(configuration.playback.outputOffset)"
        let toJournal = getenv("JOURNAL_STREAM") != nil
        LoggingSystem.bootstrap { _ in JamplayLogHandler(level: settings.logLevel, format: settings.logFormat, toJournal: toJournal) }
        // Until the service group runs, a stop signal is remembered rather than fatal, and the
        // player stops as soon as it has started.
        StopSignals.rememberUntilRunning()
        var logger = Logger(label: "jamplay")
        logger[metadataKey: "component"] = "jamplay"
        logger.info("""
            jamplay \(Jamplay.configuration.version): listen \(configuration.listen) (\(tcp ? "TCP" : "")\(tcp && udp ? ", " : "")\(udp ? "UDP" : "")), \
            device \(device) \(rate) Hz \(channels) ch, period \(periodFrames) × \(periods), fill \(configuration.playback.fill), latency \(configuration.playback.automaticLatencyCeiling.map { "auto (up to \($0))" } ?? "\(latencyValue)")\(outputOffsetText), rt-priority \(rtPriority), \
            max-buffer \(configuration.ingest.maximumBufferBytes), allow \(allow), \
            keys \(configuration.ingest.keys.map { "\(keys ?? "") (\($0.ids.joined(separator: ", ")))" } ?? "off"), http \(http), log \(logLevel) \(logFormat), stats \(statsInterval)\(record.map { ", record \($0)" } ?? "")
            """)
        let receiver = Receiver(configuration: configuration, logger: logger)
        do {
            let ports = try await receiver.start()
            logger.notice("listening on \(configuration.listen) (TCP \(ports.tcp.map(String.init) ?? "off"), UDP \(ports.udp.map(String.init) ?? "off")), latency \(automatic ? "auto, now \(receiver.playback.latency.target)" : "\(latencyValue)")\(outputOffsetText)")
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
        if let httpAddress = settings.http {
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
        // The player, the stats line and (with --keys) their reload, under one service group that
        // `StopSignals` shuts down gracefully on SIGTERM or SIGINT (at most a second).
        let stats = StatsService(reporter: StatsReporter(receiver: receiver, logger: logger, now: SystemMonotonicClock().now()), interval: settings.statsPeriod)
        let player = PlayerService(receiver: receiver, operations: operations, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: player, successTerminationBehavior: .gracefullyShutdownGroup), .init(service: stats),
        ]
        if let keys { services.append(.init(service: KeyReloadService(path: keys, ingest: receiver.ingest, logger: logger))) }
        var group = ServiceGroupConfiguration(
            services: services,
            logger: Logger(label: "jamplay.lifecycle") { _ in SwiftLogNoOpLogHandler() })
        group.maximumGracefulShutdownDuration = .seconds(1)
        let serviceGroup = ServiceGroup(configuration: group)
        StopSignals.run(serviceGroup)
        try await serviceGroup.run()
    }
}
