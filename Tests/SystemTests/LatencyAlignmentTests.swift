import Core
import Foundation
import RigSupport
import Sender
import Testing

/// `--latency auto` keeps streams aligned while it moves: in the serialized end-to-end suite, so
/// that its players and senders do not share the two cores with the parallel suites.
extension EndToEndTests {
    /// Two senders whose stamps line up — one impulse every 100 ms, the left channel's from one,
    /// the right's from the other — while the latency first comes down to what they need and then
    /// rises when one sender's network starts to jitter: in what was played the two stay within
    /// 2 samples of each other, and the steady sender's impulses go on without a gap or a jump.
    @Test func twoStreamsWithAlignedStampsStayAlignedWhileTheLatencyMoves() async throws {
        let directory = NSTemporaryDirectory() + "jamplay-aligned-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (spacing, seconds) = (4_800, 14)
        for (channel, name) in ["left", "right"].enumerated() {
            var samples = [Float](repeating: 0, count: 48_000 * seconds * 2)
            for frame in stride(from: spacing / 2, to: 48_000 * seconds, by: spacing) { samples[frame * 2 + channel] = 1 }
            try Data(WAVFile.encode(samples: samples, rate: .standard, channels: ChannelCount(2))).write(to: URL(fileURLWithPath: "\(directory)/\(name).wav"))
        }
        let player = try await JamplayProcess(["--device", "null", "--latency", "auto", "--record", "\(directory)/played.wav"])
        let start = SystemMonotonicClock().now() + .milliseconds(500)
        // The left sender's frames are delayed by up to 12 ms from 6 s on: the latency rises for both.
        let senders = try ["left", "right"].map { name in
            try JamsendRunner.start(["--clock", "cpu", "--capture", "--frame", "256", "--udp", "--to", "127.0.0.1:\(player.port)",
                                     "--session", name, "--signal", "file:\(directory)/\(name).wav", "--first-sample-at", "\(start.rawValue)"]
                                    + (name == "left" ? ["--jitter", "12ms", "--jitter-after", "6s"] : []))
        }
        for sender in senders { sender.waitUntilExit() }
        #expect(player.terminate().status == 0)
        let counters = player.finalCounters

        let played = try WAVFile(path: "\(directory)/played.wav")
        let frames = played.samples.count / 2
        /// Where each impulse peaks on `channel`, in recorded frames.
        func peaks(_ channel: Int) -> [Int] {
            var result: [Int] = []
            var frame = 0
            while frame < frames {
                if abs(played.samples[frame * 2 + channel]) >= 0.3 {
                    let window = frame..<min(frames, frame + 8)
                    result.append(window.max { abs(played.samples[$0 * 2 + channel]) < abs(played.samples[$1 * 2 + channel]) } ?? frame)
                    frame += spacing / 2
                } else {
                    frame += 1
                }
            }
            return result
        }
        let left = peaks(0), right = peaks(1)
        // Each left impulse beside the right one of the same stamp (where both were heard).
        let apart = left.compactMap { position in right.map { abs($0 - position) }.min() }.filter { $0 < spacing / 2 }
        #expect(apart.count >= (seconds - 1) * 5 && apart.allSatisfy { $0 <= 2 }, "impulses up to \(apart.max() ?? 0) samples apart (\(apart.count) pairs)")
        // The steady sender: no jump — each spacing is whole impulses apart, give or take what the
        // moving latency stretches (0.5 %, 24 samples an impulse) — but where the device itself ran
        // dry (the player re-anchors to it, and says so); and no impulse missing but for frames
        // the player counted as late or silent (a sender's wake-up on a busy machine can be late).
        let steps = zip(right.dropFirst(), right).map { $0 - $1 }
        let impulses = steps.map { max(1, Int((Double($0) / Double(spacing)).rounded())) }
        let jumps = zip(steps, impulses).filter { abs($0 - $1 * spacing) > 30 * $1 }.count
        let deviceFaults = (counters["underruns"] ?? 0) + (counters["device slips"] ?? 0)
        #expect(jumps <= deviceFaults, "spacings \(Set(steps).sorted()), \(counters)")
        let missing = impulses.reduce(0) { $0 + $1 - 1 }
        let gaps = (counters["late frames"] ?? 0) + (counters["silent frames"] ?? 0)
        #expect(missing == 0 || gaps > 0, "\(missing) impulses missing, \(counters)")
        #expect(right.count + missing >= (seconds - 1) * 10 && left.count >= right.count / 2, "heard \(left.count) left, \(right.count) right")
        // The latency did move while they played: some spacings are stretched or squeezed.
        #expect(steps.contains { abs($0 - spacing) >= 10 }, "spacings \(Set(steps).sorted())")
    }
}
