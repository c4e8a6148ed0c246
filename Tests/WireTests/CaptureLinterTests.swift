import Core
import Testing
import Wire

/// The linter classifies every line of a capture and sums the classes.
@Suite struct CaptureLinterTests {
    private func lint(_ text: String, limit: Int = 1 << 20, chunk: Int = 5) -> (findings: [String], linter: CaptureLinter) {
        var linter = CaptureLinter(limit: ByteCount(limit))
        var findings: [String] = []
        let bytes = Array(text.utf8)
        for start in stride(from: 0, to: bytes.count, by: chunk) {
            Array(bytes[start..<min(start + chunk, bytes.count)]).withUnsafeBytes { linter.feed($0) { findings.append($0.description) } }
        }
        linter.finish { findings.append($0.description) }
        return (findings, linter)
    }

    @Test func eachBadLineIsReportedWithItsNumberClassAndDetail() {
        let capture = """
            {"type":"jdat","timestamp_cpu":1,"payload":[0.5]}

            {"type":"jdat",
            [1]
            {"type":"jdat","version":"jamnet/3.1"}
            {"type":"jdat","timestamp_cpu":1,"payload":[0.5,"x"]}
            {"type":"future_thing"}
            \(String(repeating: "z", count: 300))
            {"type":"sync_calibration_block","timestamp_cpu":1,"timestamp_gpu":2}
            """
        let (findings, linter) = lint(capture, limit: 200)
        #expect(findings == [
            "line 3: json-error: byte 15: unexpected end of line",
            "line 4: not-a-message: the line is valid JSON but not an object",
            "line 5: unsupported-version: jamnet/3.1 is not supported (this receiver speaks jamnet/1.x)",
            "line 6: invalid-field: payload: element 1 is not a number",
            "line 7: unknown-type: type \"future_thing\" is not known (ignored)",
            "line 8: line-too-long: 300 bytes, over the 200 B limit (discarded)",
        ])
        #expect(linter.summary == "8 lines: 2 ok, 1 json-error, 1 not-a-message, 1 unsupported-version, 1 invalid-field, 1 unknown-type, 1 line-too-long")
        #expect(!linter.allLinesOK)
    }

    @Test func aCleanCaptureIsAllOK() {
        let (findings, linter) = lint("{\"type\":\"jdat\",\"timestamp_cpu\":1,\"payload\":[]}\n{\"type\":\"jdat\",\"timestamp_cpu\":2,\"payload\":[]}\n")
        #expect(findings.isEmpty && linter.allLinesOK && linter.counts[.ok] == 2)
        #expect(lint("").linter.allLinesOK)
    }
}
