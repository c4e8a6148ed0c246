import Foundation
import JackProbe
#if canImport(Glibc)
import Glibc
#endif

/// The test rig of DESIGN §5: a JACK dummy server (started here when none runs) and a probe client
/// that records what the ALSA `jack` PCM plays, with JACK's time of every frame.
public enum JackRig {
    /// Why the rig cannot run here (tests skip loudly with it), or nil once a server answers.
    public static let unavailable: String? = {
        if serverAnswers() { return nil }
        guard let jackd = ["/usr/bin/jackd", "/usr/local/bin/jackd"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return "jackd is not installed (Debian: jackd2, with libasound2-plugins for the ALSA jack PCM; CI installs them)"
        }
        let server = Process()
        server.executableURL = URL(fileURLWithPath: jackd)
        server.arguments = ["-d", "dummy", "-r", "48000", "-p", "256"]
        server.environment = ProcessInfo.processInfo.environment.merging(["JACK_NO_AUDIO_RESERVATION": "1"]) { $1 }
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        do { try server.run() } catch { return "cannot start jackd: \(error)" }
        for _ in 0..<50 where !serverAnswers() { usleep(100_000) }
        return serverAnswers() ? nil : "jackd -d dummy did not come up within 5 s"
    }()

    private static func serverAnswers() -> Bool {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/jack_lsp")
        probe.environment = ["JACK_NO_START_SERVER": "1"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }

    /// A recording of the probe: both channels and the CLOCK_MONOTONIC time of each frame.
    public struct Recording {
        public var left: [Float]
        public var right: [Float]
        /// CLOCK_MONOTONIC − JACK time, ns.
        public var offset: Double
        /// Recorded frames at which the JACK server itself reported an xrun (the rig, not the
        /// player, missed a cycle: timing measured across one says nothing of the player).
        public var rigXrunFrames: [Int]

        /// Whether recorded frame `frame` lies within `seconds` after an xrun of the JACK server,
        /// or just before one: JACK tells its clients of an xrun after the late cycle, whose
        /// frames the probe has then already recorded. Times (``time(ofFrame:)``) need 3 s after:
        /// JACK's own frame-to-time estimate swings by milliseconds for a second or two after
        /// one. Frame counts need less: the player re-anchors within a few periods.
        public func isDisturbed(at frame: Int, for seconds: Double = 3) -> Bool {
            rigXrunFrames.contains { $0 - Self.xrunNoticeFrames <= frame && frame < $0 + Int(seconds * 48_000) }
        }

        /// How far before the recorded frame of an xrun its disturbance may start: 0.1 s, many
        /// JACK periods (the notice comes one or a few cycles late).
        static let xrunNoticeFrames = 4_800

        /// When frame `index` was played, CLOCK_MONOTONIC nanoseconds.
        public func time(ofFrame index: Int) -> Double { jack_probe_frame_time_usecs(index) * 1000 + offset }

        /// When the pulse starting near frame `onset` was played, CLOCK_MONOTONIC nanoseconds.
        public func pulseTime(near onset: Int) -> Double { jack_probe_pulse_time_usecs(onset) * 1000 + offset }

        /// Frames where the left channel rises through `threshold` after at least `quiet` frames below it.
        public func onsets(threshold: Float = 0.5, quiet: Int = 100) -> [Int] {
            var result: [Int] = []
            var below = quiet
            for (index, sample) in left.enumerated() {
                if abs(sample) >= threshold {
                    if below >= quiet { result.append(index) }
                    below = 0
                } else {
                    below += 1
                }
            }
            return result
        }
    }

    /// How far `time` is from the nearest multiple of `period` (both ns).
    public static func gridError(_ time: Double, period: Double) -> Double { time - (time / period).rounded() * period }

    /// What the probe recorded since its last restart.
    public static func record() -> Recording {
        let frames = jack_probe_frames()
        var left = [Float](repeating: 0, count: frames)
        var right = [Float](repeating: 0, count: frames)
        _ = jack_probe_copy(0, &left, frames)
        _ = jack_probe_copy(1, &right, frames)
        let xruns = (0..<jack_probe_xruns()).map { Int(jack_probe_xrun_frame($0)) }
        return Recording(left: left, right: right, offset: jack_probe_monotonic_minus_jack_nsecs(), rigXrunFrames: xruns)
    }
}
