import Foundation
import RigSupport
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The play command's flags as a user types them: units, defaults in `--help`, one-line errors
/// that say what was expected, and limits that take effect.
@Suite struct CommandLineTests {
    @Test(arguments: [
        (["--latency", "20parsecs"], "--latency 20parsecs: expected a duration such as 20ms"),
        (["--max-line-bytes", "10GiB"], "--max-line-bytes 10GiB: expected a size from 256B to 64MiB"),
        (["--session-timeout", "0"], "--session-timeout 0: expected a duration of 100ms or more"),
        (["--idle-timeout", "soon"], "--idle-timeout soon: expected a duration of 1s or more"),
        (["--stats-interval", "0.1s"], "--stats-interval 0.1s: expected a duration of 1s or more"),
        (["--http", "nowhere"], "--http nowhere: expected ADDR:PORT"),
        (["--log-level", "loud"], "--log-level loud: expected one of trace, debug, info"),
        (["--log-format", "xml"], "--log-format xml: expected text or json"),
        (["--max-connections", "0"], "--max-connections 0: expected 1...4096"),
        (["--listen", "9000"], "--listen"),
        (["--latency", "40ms", "--output-offset", "soon"], "--output-offset soon: expected a duration such as 2ms or -1.5ms"),
        (["--output-offset", "2ms"], "--output-offset needs a fixed --latency"),
        (["--latency", "10ms", "--output-offset=-20ms"], "would play before the sample's time"),
    ])
    func wrongInputIsAOneLineErrorThatSaysWhatWasExpected(arguments: [String], expected: String) throws {
        let outcome = try JamplayRun.run(["--device", "null"] + arguments)
        #expect(outcome.status == 64)
        let errors = outcome.standardError.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
        #expect(errors.count == 1 && errors[0].contains(expected), "\(outcome.standardError)")
    }

    @Test func helpShowsEveryDefaultAndTheVersionIsPrinted() throws {
        let help = try JamplayRun.run(["play", "--help"]).standardOutput
        for shown in ["(default: :9000)", "(default: auto)", "(default: 1MiB)", "(default: 5s)", "(default: 127.0.0.1:9001)", "(default: all)",
                      "(default: info)", "(default: 10s)", "(default: 256)", "(default: 70)"] {
            #expect(help.contains(shown), "play --help lacks \(shown)")
        }
        #expect(try JamplayRun.run(["--help"]).standardOutput.contains("jamplay --listen :9000"))
        let version = try JamplayRun.run(["--version"])
        #expect(version.status == 0 && version.standardOutput.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil)
    }

    @Test func theIngestLimitsTakeEffect() async throws {
        let player = try await JamplayProcess(["--device", "null", "--rt-priority", "0", "--max-line-bytes", "1KiB", "--max-connections", "1"])
        let first = LoopbackSockets.connectTCP(port: player.port)
        defer { close(first) }
        LoopbackSockets.sendAll(first, Array(("{\"type\":\"x\",\"pad\":\"" + String(repeating: "a", count: 2_000) + "\"}\n").utf8))
        // A second connection beyond the limit is closed at once.
        let second = LoopbackSockets.connectTCP(port: player.port)
        defer { close(second) }
        var byte: UInt8 = 0
        #expect(recv(second, &byte, 1, 0) <= 0)
        #expect(await player.waitForLog("line-too-long", within: 5))
        #expect(player.terminate().status == 0)
        #expect(player.finalCounters["rejected lines"] == 1)
    }

    @Test func aMissingDeviceExitsWithTheDevicesThatExist() throws {
        let outcome = try JamplayRun.run(["--listen", "127.0.0.1:0", "--http", "off", "--device", "no-such-pcm"])
        #expect(outcome.status == 1)
        #expect(outcome.standardError.contains("cannot open ALSA device \"no-such-pcm\""), "\(outcome.standardError)")
        #expect(outcome.standardError.contains("the playback devices here: ") && outcome.standardError.contains("null"))
        // ALSA's own line ("ALSA lib pcm.c: Unknown PCM") is not printed before ours.
        #expect(!outcome.standardError.contains("ALSA lib"))
    }

    @Test func aLatencyBelowTheDevicePathIsAStartUpErrorThatNamesTheFloor() async throws {
        // The null device's floor: a fill of 2 ms and a period of 480 frames at 48 kHz (10 ms).
        let outcome = try JamplayRun.run(["--listen", "127.0.0.1:0", "--http", "off", "--device", "null", "--rt-priority", "0",
                                          "--period-frames", "480", "--fill", "2ms", "--latency", "11ms"])
        #expect(outcome.status == 1)
        #expect(outcome.standardError.contains("--latency 11.0ms is below this device's path"), "\(outcome.standardError)")
        #expect(!outcome.standardError.contains("the playback devices here"))
        #expect(outcome.standardError.contains("the floor here is 12.0ms"))
        let atTheFloor = try await JamplayProcess(["--device", "null", "--rt-priority", "0", "--period-frames", "480", "--fill", "2ms",
                                                   "--latency", "12ms"])
        #expect(await atTheFloor.waitForLog("device path", within: 5))
        #expect(atTheFloor.terminate().status == 0)
    }

    /// The output offset adds to the latency, for the floor too: 20 ms − 9 ms is below the null
    /// device's 12 ms, and the error names both; 20 ms + 2 ms plays at 22 ms.
    @Test func theOutputOffsetAddsToTheLatencyAndItsFloorCheck() async throws {
        let device = ["--device", "null", "--rt-priority", "0", "--period-frames", "480", "--fill", "2ms"]
        let outcome = try JamplayRun.run(["--listen", "127.0.0.1:0", "--http", "off"] + device + ["--latency", "20ms", "--output-offset=-9ms"])
        #expect(outcome.status == 1)
        #expect(outcome.standardError.contains("--latency 20.0ms with --output-offset -9.0ms is below this device's path"), "\(outcome.standardError)")
        let later = try await JamplayProcess(device + ["--latency", "20ms", "--output-offset", "2ms"])
        #expect(await later.waitForLog("latency 20.0ms + output offset 2.0ms", within: 5), "\(later.log)")
        let status = LoopbackSockets.httpRequest("/status", port: try OperationsEndpointTests.httpPort(of: later))?.body ?? ""
        #expect(status.contains("\"latency_nanoseconds\" : 22000000") && status.contains("\"output_offset_nanoseconds\" : 2000000"), "\(status)")
        #expect(later.terminate().status == 0)
    }
}
