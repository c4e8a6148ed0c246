import Core
import Sender

/// The one-line status on a terminal (frames, rate, calibration, send error), redrawn at most four
/// times a second and left as a summary at the end; nothing when standard error is not a terminal.
struct ProgressLine {
    let enabled: Bool
    let rate: SampleRate
    private let clock = SystemMonotonicClock()
    private let started: Nanoseconds
    private var lastDrawn: Nanoseconds = .zero

    init(enabled: Bool, rate: SampleRate) {
        self.enabled = enabled
        self.rate = rate
        started = SystemMonotonicClock().now()
    }

    mutating func update(_ statistics: SenderStatistics) {
        let now = clock.now()
        guard enabled, now - lastDrawn >= .milliseconds(250) else { return }
        lastDrawn = now
        write("\r\u{1B}[K" + text(statistics, now: now))
    }

    func finish(_ statistics: SenderStatistics) {
        guard enabled else { return }
        write("\r\u{1B}[K" + text(statistics, now: clock.now()) + "\n")
    }

    /// A line printed once on a terminal (the device in use).
    func note(_ line: String) {
        if enabled { write(line + "\n") }
    }

    private func text(_ statistics: SenderStatistics, now: Nanoseconds) -> String {
        let elapsed = max((now - started).seconds, 1e-9)
        var parts = [
            "jamsend: \(statistics.framesSent) frames",
            "\(format(Double(statistics.samplesSent) / Double(rate.hertz), 1)) s of audio",
            "\(format(Double(statistics.framesSent) / elapsed, 1)) frames/s",
            "cal offset \(Nanoseconds(statistics.calibrationOffset)) ±\(Nanoseconds(Int64(statistics.calibrationDeviation.rounded())))",
        ]
        if let p99 = statistics.sendErrorQuantile(0.99) { parts.append("send error p99 \(p99)") }
        if statistics.framesDropped > 0 { parts.append("\(statistics.framesDropped) dropped (no receiver)") }
        if statistics.probesAnswered > 0 { parts.append("\(statistics.probesAnswered) probes answered") }
        return parts.joined(separator: " · ")
    }

    private func format(_ value: Double, _ decimals: Int) -> String {
        let scale = Double([1, 10, 100, 1000][decimals])
        return "\((value * scale).rounded() / scale)"
    }

    private func write(_ text: String) {
        StandardError.write(text)
    }
}
