import Foundation
import TestSupport

/// The built `jamplay` run as a box runs it, on a free loopback port, its log collected.
public final class JamplayProcess: Sendable {
    /// The process.
    public let process: Process
    /// The port it listens on (TCP and UDP).
    public let port: Int
    private let output: OutputFile

    /// Where the player writes its timing trace (with JAMPLAY_TEST_TRACE_DIR set).
    public let tracePath: String?

    /// Starts `jamplay --listen 127.0.0.1:0 --http 127.0.0.1:0` with `arguments` (and `environment` added) and waits
    /// until it listens.
    public init(_ arguments: [String], environment: [String: String] = [:]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtExecutable(named: "jamplay"))
        // Any free ports: several players run at once.
        process.arguments = ["--listen", "127.0.0.1:0"] + (arguments.contains("--http") ? [] : ["--http", "127.0.0.1:0"]) + arguments
        // For diagnosis: JAMPLAY_TEST_TRACE_DIR collects each player's timing trace.
        if let directory = ProcessInfo.processInfo.environment["JAMPLAY_TEST_TRACE_DIR"] {
            let path = "\(directory)/player-\(DispatchTime.now().uptimeNanoseconds).csv"
            process.arguments! += ["--trace-timing", path]
            tracePath = path
        } else {
            tracePath = nil
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        let output = try OutputFile("jamplay")
        self.output = output
        process.standardError = output.handle
        try process.run()
        self.process = process
        // Ready once it listens, and serves its HTTP port unless that is off.
        let servesHTTP = arguments.firstIndex(of: "--http").map { arguments.index(after: $0) < arguments.endIndex && arguments[$0 + 1] != "off" } ?? true
        let ready = servesHTTP ? "/metrics and /status" : "(TCP "
        let started = await eventually(within: 10) { output.text.contains(ready) || !process.isRunning }
        guard started, let port = Self.port(in: output.text) else {
            process.terminate()
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "jamplay did not start: \(output.text)"])
        }
        self.port = port
    }

    deinit { if process.isRunning { process.terminate() } }

    /// Everything it logged so far.
    public var log: String { output.text }

    /// Waits up to `seconds` for `text` to appear in the log.
    public func waitForLog(_ text: String, within seconds: Double = 10) async -> Bool {
        await eventually(within: seconds) { log.contains(text) }
    }

    /// Sends SIGTERM and waits for the exit: its status and how long it took, in seconds.
    @discardableResult
    public func terminate() -> (status: Int32, seconds: Double) {
        let start = Date()
        process.terminate()
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(start)
        // The pipe's last bytes may land just after the exit.
        _ = Self.waitBriefly { self.log.contains("jamplay: stopped:") }
        return (process.terminationStatus, seconds)
    }

    /// The counters of the line it logs on stopping ("3 underruns" → ["underruns": 3]).
    public var finalCounters: [String: Int] {
        guard let line = log.split(separator: "\n").last(where: { $0.contains("jamplay: stopped: ") }),
              let start = line.range(of: "jamplay: stopped: ") else { return [:] }
        var counters: [String: Int] = [:]
        for item in line[start.upperBound...].split(separator: ",") {
            let words = item.split(separator: " ")
            if let value = words.first.flatMap({ Int($0) }) { counters[words.dropFirst().joined(separator: " ")] = value }
        }
        return counters
    }

    private static func port(in log: String) -> Int? {
        guard let range = log.range(of: "(TCP ") ?? log.range(of: "UDP ") else { return nil }
        return Int(log[range.upperBound...].prefix { $0.isNumber })
    }

    private static func waitBriefly(_ condition: () -> Bool) -> Bool {
        for _ in 0..<100 where !condition() { usleep(10_000) }
        return condition()
    }
}
