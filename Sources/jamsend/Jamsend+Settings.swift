import ArgumentParser
import Authentication
import Core
import Sender

/// What jamsend's options ask for, checked: every option's range and form is validated here,
/// none in the sending code.
extension Jamsend {
    /// The sender's configuration, and the samples of a `file:` signal; a `ValidationError` names
    /// the first option out of range.
    func settings() throws -> (configuration: SenderConfiguration, fileSamples: [Float]) {
        var settings = SenderConfiguration()
        var fileSamples: [Float] = []
        do {
            settings.signal = try Signal(parsing: signal)
        } catch {
            throw ValidationError(error.description)
        }
        settings.rate = SampleRate(hertz: rate)
        settings.channels = ChannelCount(channels)
        guard SampleRate.supported.contains(rate) else { throw ValidationError("--rate must be in 1...768000") }
        guard ChannelCount.supported.contains(channels) else { throw ValidationError("--channels must be in 1...64") }
        guard (1...16_384).contains(frame) else { throw ValidationError("--frame must be in 1...16384") }
        if case .file(let path) = settings.signal {
            let wav = try WAVFile(path: path)
            settings.rate = wav.sampleRate
            settings.channels = wav.channels
            fileSamples = wav.samples
            if duration == nil { settings.duration = Nanoseconds(Int64(Double(wav.frameCount) / Double(wav.sampleRate.hertz) * 1e9)) }
        }
        settings.framesPerMessage = frame
        if let duration, duration != "forever" { settings.duration = try Self.duration(duration, "--duration") }
        settings.sessionID = session
        if let key { settings.key = try Self.key(key) }
        settings.streamID = stream
        if capture && lead != nil { throw ValidationError("--capture and --lead exclude each other: a capturing sender sends each frame once its last sample has passed") }
        settings.capture = capture
        settings.lead = try Self.duration(lead ?? "5ms", "--lead", signed: true)
        guard (-Nanoseconds.seconds(10)...Nanoseconds.seconds(10)).contains(settings.lead) else { throw ValidationError("--lead must be within ±10s") }
        if let firstSampleAt {
            let now = SystemMonotonicClock().now()
            guard (now + .milliseconds(50)...now + .seconds(10)).contains(Nanoseconds(firstSampleAt)) else {
                throw ValidationError("--first-sample-at must be 50 ms to 10 s after now (CLOCK_MONOTONIC \(now.rawValue) ns)")
            }
            settings.firstSampleAt = Nanoseconds(firstSampleAt)
        }
        settings.calibrationInterval = try Self.duration(calibrationEvery, "--cal-every")
        guard settings.calibrationInterval >= .milliseconds(10) else { throw ValidationError("--cal-every must be at least 10ms") }
        settings.stampMode = stamp
        guard (16...64).contains(gpuBits) else { throw ValidationError("--gpu-bits must be in 16...64") }
        guard abs(gpuSkewPPM) < 100_000 else { throw ValidationError("--gpu-skew-ppm must be within ±100000") }
        settings.knobs = GPUClockKnobs(offset: try Self.duration(gpuOffset, "--gpu-offset", signed: true), skewPartsPerMillion: gpuSkewPPM, bits: gpuBits)
        settings.stampJitter = try Self.duration(stampJitter, "--stamp-jitter")
        for (name, value) in [("--loss", loss), ("--reorder", reorder), ("--duplicate", duplicate)] where !(0...1).contains(value) {
            throw ValidationError("\(name) is a probability in 0...1")
        }
        guard (1...1_000).contains(lossBurst) else { throw ValidationError("--loss-burst must be in 1...1000") }
        settings.impairments = NetworkImpairments(loss: loss, lossBurst: lossBurst, reorder: reorder, duplicate: duplicate, jitter: try Self.duration(jitter, "--jitter"),
                                                  jitterAfter: try Self.duration(jitterAfter, "--jitter-after"))
        if !settings.impairments.isNone && (transport != .udp || out != nil) {
            throw ValidationError("--loss, --reorder, --duplicate and --jitter apply to --udp only")
        }
        settings.seed = seed
        settings.paced = !noPace
        if let out {
            settings.output = .file(path: out)
        } else {
            do {
                settings.output = .network(try SenderDestination(parsing: to), transport)
            } catch {
                throw ValidationError(error.description)
            }
        }
        return (settings, fileSamples)
    }

    /// `--key ID:FILE`: key ID from a key file.
    static func key(_ text: String) throws -> AuthenticationKey {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex, text.index(after: colon) != text.endIndex else {
            throw ValidationError("--key \(text): expected ID:FILE")
        }
        let id = String(text[..<colon]), path = String(text[text.index(after: colon)...])
        do {
            guard let key = try KeyFile.load(path).first(where: { $0.id == id }) else { throw ValidationError("--key: \(path) has no key \(id)") }
            return key
        } catch let problem as KeyFile.Problem {
            throw ValidationError("--key: \(problem)")
        }
    }
}
