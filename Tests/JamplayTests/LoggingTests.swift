import Foundation
import RigSupport
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What the player tells its log, as an operator reads it: formats, levels, session events,
/// rate-limited warnings, the stats line.
@Suite struct LoggingTests {
    static func startPlayer(_ arguments: [String], environment: [String: String] = [:]) async throws -> JamplayProcess {
        try await JamplayProcess(["--device", "null", "--rt-priority", "0"] + arguments, environment: environment)
    }

    /// Sends `count` copies of `line` over one TCP connection.
    static func sendLines(_ line: String, count: Int, to port: Int) {
        let socket = LoopbackSockets.connectTCP(port: port)
        defer { close(socket) }
        LoopbackSockets.sendAll(socket, Array(String(repeating: line + "\n", count: count).utf8))
    }

    @Test func jsonLinesCarryTimeLevelComponentAndMessageAndTellSessionEvents() async throws {
        let player = try await Self.startPlayer(["--log-format", "json"])
        let sender = try JamsendRunner.start(["--clock", "cpu", "--to", "127.0.0.1:\(player.port)", "--signal", "sine", "--duration", "1s", "--session", "den"])
        sender.waitUntilExit()
        #expect(await player.waitForLog("calibrated"))
        #expect(player.terminate().status == 0)
        let lines = player.log.split(separator: "\n")
        #expect(lines.count >= 5)
        var messages: [String] = []
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "not a JSON object: \(line)")
            #expect(object["time"]?.hasSuffix("Z") == true && object["level"] != nil && object["component"] != nil, "\(object)")
            messages.append("\(object["component"] ?? ""): \(object["message"] ?? "")")
        }
        #expect(messages.contains { $0.hasPrefix("jamplay: jamplay ") && $0.contains("latency auto (up to 200.0ms)") }, "no start-up line with the configuration: \(messages)")
        #expect(messages.contains { $0.hasPrefix("playback: null: ") }, "no line with what the device granted")
        #expect(messages.contains { $0.hasPrefix("ingest: session \"den\" from tcp 127.0.0.1:") && $0.hasSuffix("started") })
        #expect(messages.contains { $0.contains("session \"den\"") && $0.contains("calibrated: offset-only") })
        #expect(messages.contains { $0.hasPrefix("jamplay: stopped: ") })
    }

    @Test func badInputIsToldOncePerClassAndAddressThenCounted() async throws {
        let player = try await Self.startPlayer(["--log-level", "notice"])
        Self.sendLines("{\"type\":\"jdat\",\"version\":\"jamnet/9.0\"}", count: 500, to: player.port)
        Self.sendLines("not json", count: 500, to: player.port)
        #expect(await player.waitForLog("json-error"))
        #expect(player.terminate().status == 0)
        let log = player.log
        #expect(log.components(separatedBy: "unsupported-version: jamnet/9.0").count - 1 == 1, "\(log)")
        #expect(log.components(separatedBy: "json-error").count - 1 == 1, "\(log)")
        // At notice level the info lines (the device granted, sessions) are left out, notices and warnings kept.
        #expect(!log.contains("playback: null:") && log.contains("listening on"))
        #expect(player.finalCounters["rejected lines"] == 1_000)
    }

    @Test func sigusr1LogsTheStatsLineAtOnce() async throws {
        let player = try await Self.startPlayer(["--stats-interval", "off"])
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(!player.log.contains("stats: "))
        kill(player.process.processIdentifier, SIGUSR1)
        #expect(await player.waitForLog("stats: 0 sessions, 0 streams playing; last ", within: 3))
        #expect(player.terminate().status == 0)
    }

    @Test func underSystemdTheLevelIsAJournalPriority() async throws {
        let player = try await Self.startPlayer([], environment: ["JOURNAL_STREAM": "8:12345"])
        #expect(player.terminate().status == 0)
        let lines = player.log.split(separator: "\n")
        #expect(!lines.isEmpty && lines.allSatisfy { $0.hasPrefix("<6>") || $0.hasPrefix("<5>") || $0.hasPrefix("<4>") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("<5>jamplay: listening on") })
        #expect(lines.contains { $0.hasPrefix("<6>playback: null: ") })
    }

    @Test func aSecondStopSignalEndsThePlayerAtOnce() async throws {
        let player = try await Self.startPlayer([])
        try await Task.sleep(nanoseconds: 300_000_000)
        // Two different signals, so that they cannot merge into one: the first starts the fade-out
        // (50 ms and a buffer), the second ends the process before it is done.
        kill(player.process.processIdentifier, SIGINT)
        kill(player.process.processIdentifier, SIGTERM)
        player.process.waitUntilExit()
        #expect([128 + SIGINT, 128 + SIGTERM].contains(player.process.terminationStatus), "exit status \(player.process.terminationStatus)")
        #expect(!player.log.contains("stopped: "))
    }

    @Test func aStopSignalRightAfterStartStillStopsCleanly() async throws {
        for _ in 0..<5 {
            let player = try await Self.startPlayer([])
            #expect(player.terminate().status == 0, "\(player.log)")
        }
    }
}
