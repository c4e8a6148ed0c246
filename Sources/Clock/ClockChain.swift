import Core

/// The whole clock chain for one stream: sample index → sender CPU time → local time.
///
/// A GPU-stamped stream's timeline runs on the session's GPU clock (see ``SessionCalibration``),
/// mapped through the calibration to the sender's CPU clock; a CPU-stamped one's runs on that
/// clock directly. The host mapping then takes it to this host's `CLOCK_MONOTONIC`.
/// Thread: whoever owns the parts (ingest); playback reads the results. Pure logic.
public enum ClockChain {
    /// The local time of sample frame `index`, nil while a part of the chain is not calibrated.
    /// Pass `calibration` for a GPU-stamped stream, nil for a CPU-stamped one.
    public static func localTime(
        ofSample index: Int64, on line: StreamTimeline.Line, calibration: SessionCalibration?, host: HostClockMapping
    ) -> Nanoseconds? {
        guard let stampTime = line.time(ofSample: index),
              let senderTime = calibration.map({ $0.cpuTime(forGPUTime: stampTime) }) ?? stampTime
        else { return nil }
        return host.localTime(forSenderTime: senderTime)
    }

    /// The (fractional) sample index due at local time `time`: the inverse of
    /// ``localTime(ofSample:on:calibration:host:)``, which playback uses to find what to play.
    public static func sampleIndex(
        atLocalTime time: Nanoseconds, on line: StreamTimeline.Line, calibration: SessionCalibration?, host: HostClockMapping
    ) -> Double? {
        guard time.isWithinNetworkLimit, let senderTime = host.senderTime(forLocalTime: time),
              let stampTime = calibration.map({ $0.gpuTime(forCPUTime: senderTime) }) ?? senderTime
        else { return nil }
        return line.sampleIndex(at: stampTime)
    }

    /// The stream's sample rate against the local clock, in hertz: what playback resamples from.
    /// Measured over one nominal second of samples after `index`, so every drift in the chain counts.
    /// Nil when it is not positive or (a hostile calibration) beyond ``plausibleRateDeviation``.
    public static func localRate(
        at index: Int64, on line: StreamTimeline.Line, nominalRate: SampleRate, calibration: SessionCalibration?, host: HostClockMapping
    ) -> Double? {
        let span = Int64(nominalRate.hertz)
        guard let first = localTime(ofSample: index, on: line, calibration: calibration, host: host),
              let last = localTime(ofSample: index + span, on: line, calibration: calibration, host: host),
              last > first
        else { return nil }
        let rate = Double(span) * 1e9 / Double((last - first).rawValue)
        return abs(rate / Double(nominalRate.hertz) - 1) <= plausibleRateDeviation ? rate : nil
    }

    /// How far a stream's rate against the local clock may be from its nominal rate: 1 %, ten
    /// times the largest drift of real clocks (``SessionCalibration/Configuration/maximumSkewPPM``).
    public static let plausibleRateDeviation = 0.01
}
