import Testing
@testable import Wire

/// The jamnet envelope: type, version, duplicates, unknown types and fields.
@Suite struct EnvelopeTests {
    private let frame = "\"timestamp_cpu\":1,\"payload\":[]"

    @Test(arguments: [
        ("[{\"type\":\"jdat\"}]", LineRejection.NotAMessageReason.notAnObject),
        ("42", .notAnObject),
        ("\"jdat\"", .notAnObject),
        ("{\"payload\":[1]}", .missingType),
        ("{\"type\":7}", .typeNotAString),
        ("{\"type\":{\"name\":\"jdat\"}}", .typeNotAString),
    ])
    func valuesWithoutAStringTypeAreNotMessages(text: String, reason: LineRejection.NotAMessageReason) {
        #expect(rejection(text) == .notAMessage(reason))
    }

    @Test func absentVersionMeansJamnet10() {
        guard case .audioFrame(let header, _, _) = decode("{\"type\":\"jdat\",\(frame)}").0 else { Issue.record("not a frame"); return }
        #expect(header.version == ProtocolVersion(major: 1, minor: 0))
    }

    @Test(arguments: ["jamnet/1.0", "jamnet/1.1", "jamnet/1.99"])
    func anyMinorOfMajorOneIsAcceptedAndItsNewFieldsIgnored(version: String) {
        let (result, _) = decode("{\"type\":\"jdat\",\"version\":\"\(version)\",\"new_field\":{\"a\":[1]},\(frame)}")
        guard case .audioFrame(let header, _, _) = result else { Issue.record("\(result)"); return }
        #expect(header.version.description == version)
    }

    @Test(arguments: [
        "{\"type\":\"jdat\",\"version\":\"jamnet/2.0\",\(#""timestamp_cpu":1,"payload":[]"#)}",
        "{\"version\":\"jamnet/2.0\",\"type\":\"no_such_type\"}",
        "{\"type\":\"jdat\",\"version\":\"jamnet/2.0\",\"payload\":\"not an array\"}",
        "{\"type\":\"jdat\",\"type\":\"jdat\",\"version\":\"jamnet/2.0\"}",
    ])
    func anotherMajorIsUnsupportedWhateverTheTypeAndFieldsSay(text: String) {
        #expect(rejection(text) == .unsupportedVersion(ProtocolVersion(major: 2, minor: 0)))
    }

    @Test func unsupportedVersionNamesWhatWasSeenAndWhatIsSupported() {
        let text = rejection("{\"type\":\"jdat\",\"version\":\"jamnet/0.9\"}")?.description ?? ""
        #expect(text.contains("jamnet/0.9") && text.contains("jamnet/1.x"))
    }

    @Test(arguments: ["1.0", "jamnet/1", "jamnet/1.", "jamnet/.1", "jamnet/x.y", "JAMNET/1.0", "jamnet/1.0.0", "jamnet/01.0", "jamnet/1.0 ", "jamnet/9999999999.0", ""])
    func aMalformedVersionIsAnInvalidField(version: String) {
        #expect(rejection("{\"type\":\"jdat\",\"version\":\"\(version)\",\(frame)}") == .invalidField(InvalidField(.version, .malformedVersion)))
    }

    @Test func aVersionThatIsNotAStringIsAnInvalidField() {
        #expect(rejection("{\"type\":\"jdat\",\"version\":1.0,\(frame)}") == .invalidField(InvalidField(.version, .notAString)))
    }

    @Test(arguments: ["jdat2", "JDAT", "clock_probe_v9", "", "sync_calibration"])
    func unknownTypesAreIgnoredAndCounted(type: String) {
        #expect(rejection("{\"type\":\"\(type)\",\"payload\":\"anything\"}") == .unknownType(type))
    }

    @Test(arguments: [
        ("{\"type\":\"jdat\",\"type\":\"jdat\",\(#""timestamp_cpu":1,"payload":[]"#)}", FieldName.type),
        ("{\"type\":\"jdat\",\"version\":\"jamnet/1.0\",\"version\":\"jamnet/1.0\",\(#""timestamp_cpu":1,"payload":[]"#)}", .version),
        ("{\"type\":\"jdat\",\"timestamp_gpu\":1,\"timestamp_gpu\":2,\"payload\":[]}", .timestampGPU),
        ("{\"type\":\"jdat\",\"timestamp_cpu\":1,\"payload\":[],\"payload\":[1]}", .payload),
        ("{\"type\":\"jdat\",\"timestamp_cpu\":1,\"payload\":[],\"seq\":1,\"seq\":1}", .seq),
        ("{\"type\":\"sync_calibration_block\",\"timestamp_cpu\":1,\"timestamp_gpu\":2,\"timestamp_cpu\":1}", .timestampCPU),
        ("{\"type\":\"jdat\",\"timestamp_cpu\":1,\"payload\":[],\"session_id\":\"a\",\"session_\\u0069d\":\"b\"}", .sessionID),
    ])
    func aKnownFieldGivenTwiceIsAnInvalidField(text: String, field: FieldName) {
        #expect(rejection(text) == .invalidField(InvalidField(field, .duplicate)))
    }

    @Test func unknownFieldsMayRepeat() {
        #expect(lineClass("{\"type\":\"jdat\",\"x\":1,\"x\":2,\(frame)}") == .ok)
    }

    @Test func escapedKeysAndTypeNamesMeanWhatTheyDecodeTo() {
        let (result, samples) = decode("{\"typ\\u0065\":\"jd\\u0061t\",\"payl\\u006fad\":[0.25],\"timestamp_cpu\":5}")
        guard case .audioFrame(let header, 1, 0) = result else { Issue.record("\(result)"); return }
        #expect(header.timestamp == .cpu(5) && samples == [0.25])
    }

    @Test func fieldsOfAnotherTypeAreIgnored() {
        // `payload` is not a sync block field: its odd value is ignored there.
        let line = "{\"type\":\"sync_calibration_block\",\"payload\":\"x\",\"channels\":0,\"timestamp_cpu\":1,\"timestamp_gpu\":2}"
        #expect(lineClass(line) == .ok)
        // And a frame ignores `timestamp_unit`.
        #expect(lineClass("{\"type\":\"jdat\",\"timestamp_unit\":42,\(frame)}") == .ok)
    }

    @Test func everyFieldHasASlotInTheSinglePass() {
        #expect(FieldName.allCases.count <= FieldValues.capacity)
        #expect(FieldName.allCases.map(\.rawValue) == Array(0..<UInt8(FieldName.allCases.count)))
    }

    @Test func everyRejectionHasItsClass() {
        #expect(LineRejection.jsonError(JSONSyntaxError(offset: 0, reason: .expectedValue)).lineClass == .jsonError)
        #expect(LineRejection.lineTooLong(.init(10), limit: .init(5)).lineClass == .lineTooLong)
        #expect(LineClass.allCases.map(\.rawValue) == ["ok", "json-error", "not-a-message", "unsupported-version", "invalid-field", "unknown-type", "line-too-long"])
    }
}
