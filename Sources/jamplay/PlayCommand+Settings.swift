import ArgumentParser
import Authentication
import Core
import Ingest
import Logging
import Receiver

/// What `jamplay play`'s options ask for, checked: every option's range and form is validated
/// here (the argument parser calls ``validate()`` before ``run()``), none in the serving code.
extension PlayCommand {
    /// The player's configuration and what runs beside it.
    struct Settings {
        var receiver: ReceiverConfiguration
        /// Where `/metrics` and `/status` are served (nil: `--http off`).
        var http: ListenAddress?
        var logLevel: Logger.Level
        var logFormat: JamplayLogHandler.Format
        /// How often the stats line is logged (nil: `--stats-interval off`).
        var statsPeriod: Nanoseconds?
    }

    /// The options as settings; a `ValidationError` names the first option out of range.
    func settings() throws -> Settings {
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
        guard let offsetValue = Nanoseconds(signedDuration: outputOffset), (-Nanoseconds.seconds(1)...Nanoseconds.seconds(1)).contains(offsetValue) else {
            throw ValidationError("--output-offset \(outputOffset): expected a duration such as 2ms or -1.5ms, within ±1s")
        }
        guard offsetValue == .zero || !automatic else {
            throw ValidationError("--output-offset needs a fixed --latency: with auto each box chooses its own latency, so boxes would not play in step anyway")
        }
        guard latencyValue + offsetValue >= .zero else {
            throw ValidationError("--latency \(latency) with --output-offset \(outputOffset) would play before the sample's time")
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
        if let keys {
            do {
                configuration.ingest.keys = KeyRing(try KeyFile.load(keys))
            } catch {
                throw ValidationError("--keys \(error)")
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
        configuration.playback.outputOffset = offsetValue
        configuration.playback.automaticLatencyCeiling = automatic ? ceiling : nil
        configuration.playback.fill = fillValue
        configuration.playback.realtimePriority = rtPriority
        configuration.playback.recordPath = record
        configuration.playback.timingTracePath = traceTiming
        switch conceal {
        case "on": configuration.playback.concealment = .standard
        case "off": configuration.playback.concealment = nil
        default: throw ValidationError("--conceal \(conceal): expected on or off")
        }
        return Settings(receiver: configuration, http: httpAddress, logLevel: level, logFormat: format, statsPeriod: statsPeriod)
    }
}
