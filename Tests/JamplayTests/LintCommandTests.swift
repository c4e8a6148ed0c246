import Foundation
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
