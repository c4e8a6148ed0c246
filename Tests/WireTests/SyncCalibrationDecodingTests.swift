import Core
import Foundation
import Testing
import Wire

/// `sync_calibration_block`: units, counter width, the reference example.
@Suite struct SyncCalibrationDecodingTests {
    @Test func theReferenceExampleLandsAtItsDocumentedCPUTime() {
        // docs/PROTOCOL.md: the protocol's original single-block rule.
        let (block, _) = decode(#"{"type":"sync_calibration_block","timestamp_cpu":1701234567890,"timestamp_gpu":1701234580056}"#)
        let (frame, _) = decode(#"{"type":"jdat","timestamp_gpu":1701234600000,"payload":[]}"#)
        guard case .syncCalibration(let calibration) = block, case .audioFrame(let header, _, _) = frame,
              case .gpu(let gpuTime) = header.timestamp
        else { Issue.record("\(block) \(frame)"); return }
        #expect(calibration.offset == 12_166)
        #expect(gpuTime - calibration.offset == 1_701_234_587_834)
    }

    @Test func theExampleCaptureInResourcesIsAllOK() throws {
        let url = URLForResource("Resources/examples/reference.jsonl")
        let text = try String(contentsOfFile: url, encoding: .utf8)
        for line in text.split(separator: "\n") { #expect(lineClass(String(line)) == .ok) }
    }

    @Test func everyFieldDecodes() {
        let line = #"{"type":"sync_calibration_block","timestamp_cpu":-5,"timestamp_gpu":4294967295,"timestamp_unit":"ticks","tick_period_ns":52.083333333333336,"timestamp_bits":32,"max_deviation":1.5,"clock_base":"CLOCK_MONOTONIC","session_id":"s","origin":"midpoint"}"#
        let expected = SyncCalibrationBlock(
            timestampCPU: -5, timestampGPU: 4_294_967_295, unit: .ticks(periodNanoseconds: 52.083333333333336), timestampBits: 32,
            maxDeviation: 1.5, clockBase: "CLOCK_MONOTONIC", sessionID: "s", origin: .midpoint)
        #expect(decode(line).0 == .syncCalibration(expected))
    }

    @Test(arguments: [("ns", TimestampUnit.nanoseconds), ("us", .microseconds), ("ms", .milliseconds)])
    func unitsDecode(text: String, unit: TimestampUnit) {
        guard case .syncCalibration(let block) = decode("{\"type\":\"sync_calibration_block\",\"timestamp_cpu\":1,\"timestamp_gpu\":2,\"timestamp_unit\":\"\(text)\"}").0 else {
            Issue.record("not a block"); return
        }
        #expect(block.unit == unit && block.timestampBits == 64 && block.origin == .sender)
    }

    @Test(arguments: [
        (#""timestamp_gpu":2"#, InvalidField(.timestampCPU, .missing)),
        (#""timestamp_cpu":1"#, InvalidField(.timestampGPU, .missing)),
        (#""timestamp_cpu":1.5,"timestamp_gpu":2"#, InvalidField(.timestampCPU, .notAnInteger)),
        (#""timestamp_cpu":1,"timestamp_gpu":2,"timestamp_unit":"s""#, InvalidField(.timestampUnit, .unknownValue(allowed: "ns, us, ms, ticks"))),
        (#""timestamp_cpu":1,"timestamp_gpu":2,"timestamp_unit":"ticks""#, InvalidField(.tickPeriodNanoseconds, .requiredForTicks)),
        (#""timestamp_cpu":1,"timestamp_gpu":2,"timestamp_unit":"ticks","tick_period_ns":0"#, InvalidField(.tickPeriodNanoseconds, .outOfRange(allowed: "0.01...1000000"))),
        (#""timestamp_cpu":1,"timestamp_gpu":2,"timestamp_unit":"ticks","tick_period_ns":1e300"#, InvalidField(.tickPeriodNanoseconds, .outOfRange(allowed: "0.01...1000000"))),
        (#""timestamp_cpu":1,"timestamp_gpu":4611686018427387,"timestamp_unit":"ticks","tick_period_ns":1001"#,
         InvalidField(.timestampGPU, .outOfRange(allowed: "within ±4611686018427387903 ns once in nanoseconds"))),
        (#""timestamp_cpu":4611686018427388,"timestamp_gpu":2,"timestamp_unit":"ms""#,
         InvalidField(.timestampCPU, .outOfRange(allowed: "within ±4611686018427387903 ns once in nanoseconds"))),
        (#""timestamp_cpu":4611686018427387904,"timestamp_gpu":2"#, InvalidField(.timestampCPU, .outOfRange(allowed: "-4611686018427387903...4611686018427387903"))),
        (#""timestamp_cpu":1,"timestamp_gpu":2,"timestamp_unit":"ticks","tick_period_ns":"1""#, InvalidField(.tickPeriodNanoseconds, .notANumber)),
        (#""timestamp_cpu":1,"timestamp_gpu":2,"tick_period_ns":1e400"#, InvalidField(.tickPeriodNanoseconds, .outOfRange(allowed: "finite numbers"))),
        (#""timestamp_cpu":1,"timestamp_gpu":2,"timestamp_bits":15"#, InvalidField(.timestampBits, .outOfRange(allowed: "16...64"))),
        (#""timestamp_cpu":1,"timestamp_gpu":2,"timestamp_bits":65"#, InvalidField(.timestampBits, .outOfRange(allowed: "16...64"))),
        (#""timestamp_cpu":1,"timestamp_gpu":4294967296,"timestamp_bits":32"#, InvalidField(.timestampGPU, .exceedsCounterWidth(bits: 32))),
        (#""timestamp_cpu":1,"timestamp_gpu":-1,"timestamp_bits":40"#, InvalidField(.timestampGPU, .exceedsCounterWidth(bits: 40))),
        (#""timestamp_cpu":1,"timestamp_gpu":2,"max_deviation":-1"#, InvalidField(.maxDeviation, .outOfRange(allowed: "0 to 1 s in timestamp_unit"))),
        (#""timestamp_cpu":1,"timestamp_gpu":2,"max_deviation":1e200"#, InvalidField(.maxDeviation, .outOfRange(allowed: "0 to 1 s in timestamp_unit"))),
        (#""timestamp_cpu":1,"timestamp_gpu":2,"timestamp_unit":"ms","max_deviation":1000.5"#, InvalidField(.maxDeviation, .outOfRange(allowed: "0 to 1 s in timestamp_unit"))),
        (#""timestamp_cpu":1,"timestamp_gpu":2,"origin":"elsewhere""#, InvalidField(.origin, .unknownValue(allowed: "sender, receiver, midpoint"))),
        (#""timestamp_cpu":1,"timestamp_gpu":2,"clock_base":7"#, InvalidField(.clockBase, .notAString)),
    ])
    func badFieldsAreNamedWithTheirProblem(fields: String, expected: InvalidField) {
        #expect(rejection("{\"type\":\"sync_calibration_block\",\(fields)}") == .invalidField(expected))
    }

    @Test func timestampsTakeTheWholeRangeOfTwoToThe62Nanoseconds() {
        #expect(lineClass(#"{"type":"sync_calibration_block","timestamp_cpu":-4611686018427387903,"timestamp_gpu":-1}"#) == .ok)
        #expect(lineClass(#"{"type":"sync_calibration_block","timestamp_cpu":4611686018427387903,"timestamp_gpu":0}"#) == .ok)
        #expect(lineClass(#"{"type":"sync_calibration_block","timestamp_cpu":-4611686018427387,"timestamp_gpu":0,"timestamp_unit":"us","max_deviation":1e6}"#) == .ok)
        // The offset too: the two clocks at most 2^62 ns apart.
        #expect(rejection(#"{"type":"sync_calibration_block","timestamp_cpu":-4611686018427387903,"timestamp_gpu":1}"#)
            == .invalidField(InvalidField(.timestampGPU, .outOfRange(allowed: "within ±4611686018427387903 ns of timestamp_cpu"))))
        #expect(lineClass(#"{"type":"sync_calibration_block","timestamp_cpu":1,"timestamp_gpu":4611686018427,"timestamp_unit":"ticks","tick_period_ns":1000000}"#) == .ok)
    }
}

/// A path inside the package, found from this source file.
func URLForResource(_ relativePath: String) -> String {
    var directory = #filePath
    for _ in 0..<3 { directory = String(directory[..<directory.lastIndex(of: "/")!]) }
    return directory + "/" + relativePath
}

/// The examples in docs/PROTOCOL.md say what the decoder does.
@Suite struct ProtocolDocumentTests {
    @Test func theReferenceExampleInTheProtocolDocumentDecodes() throws {
        let document = try String(contentsOfFile: URLForResource("docs/PROTOCOL.md"), encoding: .utf8)
        let example = try #require(document.components(separatedBy: "## 4. The reference example").dropFirst().first)
        let block = try #require(example.components(separatedBy: "```json\n").dropFirst().first?.components(separatedBy: "```").first)
        let lines = block.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        for line in lines { #expect(lineClass(line) == .ok, "\(line)") }
        #expect(document.contains("**1701234587834**"))
    }

    @Test func theClassTableExamplesGetTheirClasses() throws {
        let document = try String(contentsOfFile: URLForResource("docs/PROTOCOL.md"), encoding: .utf8)
        var checked = 0
        for row in document.split(separator: "\n") where row.hasPrefix("| `") && row.contains("` → `") {
            checked += 1
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let expectedClass = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let example = cells[2].components(separatedBy: "` → `")
            let line = String(example[0].dropFirst())
            let detail = String(example[1].dropLast())
            let result = rejection(line)
            #expect(result?.lineClass.rawValue == expectedClass, "\(line)")
            #expect(result?.description == detail, "\(line)")
        }
        #expect(checked == 2)
    }
}
