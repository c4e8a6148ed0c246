import Foundation
import RigSupport
import TestSupport
import Testing

/// The player's threads as the system schedules them: playback at `--rt-priority`, the
/// receiving thread real-time too but below every audio thread.
@Suite struct RealtimeSchedulingTests {
    /// Each of the process's threads: its name, scheduling policy and real-time priority (/proc).
    static func threads(of pid: Int32) -> [(name: String, policy: Int, priority: Int)] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.compactMap { task in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
            // After the name: field 3 (state) onwards; rt_priority is field 40 and policy 41.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 38, let priority = Int(fields[37]), let policy = Int(fields[38]) else { return nil }
            return (String(stat[stat.index(after: open)..<close]), policy, priority)
        }
    }

    @Test func theReceivingThreadRunsRealtimeBelowThePlaybackThread() async throws {
        let player = try await JamplayProcess(["--device", "null"])
        defer { _ = player.terminate() }
        if player.log.contains("no permission for SCHED_FIFO") {
            print("theReceivingThreadRunsRealtimeBelowThePlaybackThread: SKIPPED — no permission for SCHED_FIFO here (CI runs as root)")
            return
        }
        let fifo = 1
        #expect(await eventually(within: 10) { Self.threads(of: player.process.processIdentifier).contains { $0.policy == fifo && $0.priority == 1 } },
                "\(Self.threads(of: player.process.processIdentifier))")
        let threads = Self.threads(of: player.process.processIdentifier)
        #expect(threads.contains { $0.name == "playback" && $0.policy == fifo && $0.priority == 70 }, "\(threads)")
        // Only those two: the HTTP server, logging and the rest stay at normal priority.
        #expect(threads.filter { $0.policy == fifo }.count == 2, "\(threads)")
    }
}
