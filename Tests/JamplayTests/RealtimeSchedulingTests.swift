import Foundation
import RigSupport
import TestSupport
import Testing

/// The player's threads as the system schedules them: playback real-time at `--rt-priority`, the
/// receiving thread at nice -10, everything else as the process.
@Suite struct RealtimeSchedulingTests {
    /// Each of the process's threads: its name, nice value, scheduling policy and real-time priority (/proc).
    static func threads(of pid: Int32) -> [(name: String, nice: Int, policy: Int, priority: Int)] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.compactMap { task in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
            // After the name: field 3 (state) onwards; nice is field 19, rt_priority 40, policy 41.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 38, let nice = Int(fields[16]), let priority = Int(fields[37]), let policy = Int(fields[38]) else { return nil }
            return (String(stat[stat.index(after: open)..<close]), nice, policy, priority)
        }
    }

    @Test func thePlaybackThreadRunsRealtimeAndTheReceivingThreadAtNiceMinusTen() async throws {
        let player = try await JamplayProcess(["--device", "null"])
        defer { _ = player.terminate() }
        if player.log.contains("no permission") {
            print("thePlaybackThreadRunsRealtimeAndTheReceivingThreadAtNiceMinusTen: SKIPPED — no permission for SCHED_FIFO or nice here (CI runs as root)")
            return
        }
        let fifo = 1
        #expect(await eventually(within: 10) { Self.threads(of: player.process.processIdentifier).contains { $0.nice == -10 } },
                "\(Self.threads(of: player.process.processIdentifier))")
        let threads = Self.threads(of: player.process.processIdentifier)
        #expect(threads.contains { $0.name == "playback" && $0.policy == fifo && $0.priority == 70 }, "\(threads)")
        // Only those two: the receiving thread is not real-time, and the rest run as the process.
        #expect(threads.filter { $0.policy == fifo }.count == 1 && threads.filter { $0.nice == -10 }.count == 1, "\(threads)")
    }
}
