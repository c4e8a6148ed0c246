import ArgumentParser
import Core
import Ingest
import Operations
import Playback
import Receiver
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT/SIGTERM: the player stops cleanly.
let stopRequested = Atomic<Bool>(false)

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
    @Option(help: "Periods in the device buffer.")
    var periods = 3
    @Option(help: "Every sample is played at its corrected time plus this (e.g. 20ms).")
    var latency = "20ms"
    @Option(name: .customLong("rt-priority"), help: "SCHED_FIFO priority of the playback thread (0: normal scheduling).")
    var rtPriority: Int32 = 70
    @Option(help: "Also write exactly what is played to this WAV file (32-bit float).")
    var record: String?
    @Option(help: "ADDR:PORT serving GET /metrics (Prometheus) and /status (JSON), or off. :9001 is every interface.")
    var http = "127.0.0.1:9001"
    @Option(name: .customLong("trace-timing"), help: "Write the playback loop's timing, period by period, to this CSV file when it stops (diagnosis).")
    var traceTiming: String?

    func run() async throws {
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
        guard let latencyValue = Nanoseconds(duration: latency), latencyValue >= .zero, latencyValue <= .seconds(2) else {
            throw ValidationError("--latency \(latency): expected a duration such as 20ms, up to 2s")
        }
        guard (0...99).contains(rtPriority) else { throw ValidationError("--rt-priority must be in 0...99") }
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
        configuration.playback.realtimePriority = rtPriority
        configuration.playback.recordPath = record
        configuration.playback.timingTracePath = traceTiming

        let receiver = Receiver(configuration: configuration, log: Self.log)
        do {
            let ports = try await receiver.start()
            Self.log("jamplay: listening on \(configuration.listen) (TCP \(ports.tcp.map(String.init) ?? "off"), UDP \(ports.udp.map(String.init) ?? "off")), latency \(latencyValue)")
        } catch let error as AlsaError {
            Self.log("jamplay: \(error)")
            let names = AlsaPCM.playbackDeviceHints().map(\.name)
            Self.log("jamplay: the playback devices here: \(names.joined(separator: ", ")); `jamplay devices` describes them, --device chooses one")
            throw ExitCode.failure
        } catch {
            Self.log("jamplay: cannot listen on \(configuration.listen): \(error)")
            Self.log("jamplay: another program (another jamplay?) may hold the port; --listen chooses another")
            throw ExitCode.failure
        }
        var operations: OperationsServer?
        if let httpAddress {
            do {
                let responder = StatusEndpoints.responder(for: receiver, version: Jamplay.configuration.version, started: SystemMonotonicClock().now())
                let server = try await OperationsServer.start(host: httpAddress.host ?? "::", port: httpAddress.port, responder: responder)
                operations = server
                let shown = httpAddress.host.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "[::]"
                Self.log("jamplay: metrics and status on http://\(shown):\(server.port)/metrics and /status")
            } catch {
                Self.log("jamplay: cannot serve HTTP on \(httpAddress): \(error)")
                Self.log("jamplay: --http chooses another ADDR:PORT, --http off turns it off")
                try? await receiver.stop()
                throw ExitCode.failure
            }
        }
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        for number in [SIGINT, SIGTERM] {
            signal(number) { _ in stopRequested.store(true, ordering: .relaxed) }
            sigaddset(&stopSignals, number)
        }
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        var report = StatusReport()
        while !stopRequested.load(ordering: .relaxed) {
            try? await Task.sleep(nanoseconds: 100_000_000)
            report.update(receiver)
        }
        await operations?.stop()
        try await receiver.stop()
        let playback = receiver.playbackCounters, ingest = receiver.ingestCounters
        Self.log("jamplay: stopped: \(playback.periods.value) periods played, \(playback.xruns.value) underruns, "
                 + "\(playback.silentFrames.value) silent frames, \(playback.streamReanchors.value) re-anchors, \(playback.deviceSlips.value) device slips, "
                 + "\(ingest.late.value) late frames, \(ingest.uncalibrated.value) uncalibrated frames, \(ingest.rejectedLines) rejected lines")
    }

    @Sendable static func log(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}

/// A line every ten seconds when something went wrong since the last one (underruns, gaps, late
/// frames): the real-time thread only counts, this reports.
struct StatusReport {
    private var last: [Int] = []
    private var ticks = 0

    mutating func update(_ receiver: Receiver) {
        ticks += 1
        guard ticks % 100 == 0 else { return }
        let playback = receiver.playbackCounters, ingest = receiver.ingestCounters
        let now = [playback.xruns.value, playback.silentFrames.value, playback.streamReanchors.value, playback.clippedSamples.value,
                   ingest.late.value, ingest.uncalibrated.value]
        defer { last = now }
        guard !last.isEmpty, now != last else { return }
        let change = zip(now, last).map { $0 - $1 }
        PlayCommand.log("jamplay: last 10 s: \(change[0]) underruns, \(change[1]) silent frames (gaps), \(change[2]) re-anchors, "
                        + "\(change[3]) clipped samples, \(change[4]) late frames, \(change[5]) uncalibrated frames; "
                        + "\(playback.streamsPlaying.value) streams playing")
    }
}
