import Foundation
import RigSupport
import TestSupport
import Testing

/// `jamplay lint` as a user runs it: the built binary on files and standard input.
@Suite struct LintCommandTests {
    static func temporaryFile(_ contents: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jamplay-lint-\(UUID().uuidString).jsonl").path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private let mixed = """
        {"type":"sync_calibration_block","timestamp_cpu":1701234567890,"timestamp_gpu":1701234580056}
        {"type":"jdat","timestamp_gpu":1701234600000,"payload":[0.5,0.25]
        {"type":"jdat","timestamp_gpu":1701234600000,"payload":[0.5,0.25]}
        {"type":"jdat","version":"jamnet/2.0"}

        """

    @Test func aFileWithBadLinesIsReportedLineByLineAndExitsOne() throws {
        let path = try Self.temporaryFile(mixed)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let outcome = try JamplayRun.run(["lint", path])
        #expect(outcome.status == 1)
        #expect(outcome.standardOutput == """
            line 2: json-error: byte 65: unexpected end of line
            line 4: unsupported-version: jamnet/2.0 is not supported (this receiver speaks jamnet/1.x)
            4 lines: 2 ok, 1 json-error, 0 not-a-message, 1 unsupported-version, 0 invalid-field, 0 unknown-type, 0 line-too-long

            """)
    }

    @Test func standardInputIsReadWithADashAndQuietPrintsOnlyTheSummary() throws {
        let outcome = try JamplayRun.run(["lint", "--quiet", "-"], input: mixed)
        #expect(outcome.status == 1)
        #expect(outcome.standardOutput == "4 lines: 2 ok, 1 json-error, 0 not-a-message, 1 unsupported-version, 0 invalid-field, 0 unknown-type, 0 line-too-long\n")
    }

    @Test func aCleanCaptureExitsZero() throws {
        let clean = try String(contentsOfFile: URLForPackageFile("Resources/examples/reference.jsonl"), encoding: .utf8)
        let outcome = try JamplayRun.run(["lint"], input: clean)
        #expect(outcome.status == 0)
        #expect(outcome.standardOutput.hasPrefix("3 lines: 3 ok, 0 json-error"))
    }

    @Test func aMissingFileExitsTwoWithAMessage() throws {
        let outcome = try JamplayRun.run(["lint", "/nonexistent/capture.jsonl"])
        #expect(outcome.status == 2)
        #expect(outcome.standardError.contains("cannot open /nonexistent/capture.jsonl: No such file or directory"))
    }

    @Test func withKeysEveryLinesCodeAndCounterIsChecked() throws {
        let keys = try KeysTests.keyFile("stage \(KeysTests.secret)\n")
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("jamplay-lint-\(UUID().uuidString).jsonl").path
        defer { for path in [keys, capture] { try? FileManager.default.removeItem(atPath: path) } }
        let sender = try JamsendRunner.start(["--clock", "cpu", "--key", "stage:\(keys)", "--signal", "sine", "--duration", "200ms", "--no-pace", "--out", capture])
        sender.waitUntilExit()
        let signed = try String(contentsOfFile: capture, encoding: .utf8)
        let lines = signed.split(separator: "\n").map(String.init)
        #expect(lines.count == 21, "a calibration block and 20 frames")
        let clean = try JamplayRun.run(["lint", "--keys", keys, capture])
        #expect(clean.status == 0, "\(clean.standardOutput)")
        #expect(clean.standardOutput.hasSuffix("21 lines: 21 ok, 0 json-error, 0 not-a-message, 0 unsupported-version, 0 invalid-field, 0 unknown-type, 0 line-too-long; 0 not authentic\n"))
        #expect(try JamplayRun.run(["lint", capture]).status == 0, "without keys the signature fields are just fields")

        // A line twice, a changed sample, an unsigned line.
        let tampered = [lines[0], lines[1], lines[1], lines[2].replacingOccurrences(of: "[", with: "[0.5,0.5,"), #"{"type":"jdat","timestamp_cpu":1,"payload":[]}"#]
        let outcome = try JamplayRun.run(["lint", "--keys", keys, "-"], input: tampered.joined(separator: "\n") + "\n")
        #expect(outcome.status == 1)
        #expect(outcome.standardOutput == """
            line 3: replayed: its auth_counter was seen before or is older than the replay window
            line 4: bad-mac: its mac does not match the line (or is malformed, or not the line's last field)
            line 5: unauthenticated: not signed (no mac)
            5 lines: 2 ok, 0 json-error, 0 not-a-message, 0 unsupported-version, 0 invalid-field, 0 unknown-type, 0 line-too-long; 3 not authentic (1 bad-mac, 1 replayed, 1 unauthenticated)

            """)
        let open = try KeysTests.keyFile("stage \(KeysTests.secret)\n", mode: 0o644)
        defer { try? FileManager.default.removeItem(atPath: open) }
        let refused = try JamplayRun.run(["lint", "--keys", open, capture])
        #expect(refused.status == 2 && refused.standardError.contains("chmod 600"))
    }

    @Test func theLineLimitIsAdjustable() throws {
        let outcome = try JamplayRun.run(["lint", "--max-line-bytes", "50", "-"], input: mixed)
        #expect(outcome.standardOutput.contains("line 1: line-too-long: 93 bytes, over the 50 B limit (discarded)"))
        #expect(try JamplayRun.run(["lint", "--max-line-bytes", "0", "-"], input: "").status == 64)
    }
}

/// A path inside the package, found from this source file.
func URLForPackageFile(_ relativePath: String) -> String {
    var directory = #filePath
    for _ in 0..<3 { directory = String(directory[..<directory.lastIndex(of: "/")!]) }
    return directory + "/" + relativePath
}
