import Testing
import Wire

/// Exactly RFC 8259: every valid document parses, everything else is a json-error with a position.
@Suite struct JSONConformanceTests {
    /// Valid JSON values that are not jamnet messages.
    @Test(arguments: [
        "[]", "[1,2,3]", "\"text\"", "true", "false", "null", "0", "-0", "1E+2", "0.5e-3", "-12.25E0",
        " \t\r [ 1 , { } , [ ] ] \t ", "{\"a\":{\"b\":[{\"c\":null}]}}", "{}", "{\"type\":5}",
        "{\"TYPE\":\"jdat\"}", "{\"type\":null}", "{\"type\":[\"jdat\"]}", "\"\\u00e9\\n\\\"\\\\\\/\\b\\f\\r\\t\"",
        "\"é ✓ 😀\"", "\"\\ud83d\\ude00 \\udead\"", "[1e999, -1e-999]",
        String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000),
    ])
    func validJSONThatIsNotAMessageIsNotAMessage(text: String) {
        #expect(lineClass(text) == .notAMessage)
    }

    /// Valid JSON inside an unknown field of a valid message leaves the message valid.
    @Test(arguments: ["[]", "{\"x\":[1,{\"y\":\"z\"}]}", "\"\\u0000\"", "-0.0e-0", "true", "null", "12345678901234567890123"])
    func anyValidValueInAnUnknownFieldIsIgnored(value: String) {
        #expect(lineClass("{\"type\":\"jdat\",\"extra\":\(value),\"timestamp_cpu\":1,\"payload\":[]}") == .ok)
    }

    @Test(arguments: [
        ("NaN", 0, JSONSyntaxError.Reason.expectedValue),
        ("[NaN]", 1, .expectedValue),
        ("[Infinity]", 1, .expectedValue),
        ("[-Infinity]", 2, .expectedDigit),
        ("[1,]", 3, .expectedValue),
        ("{\"a\":1,}", 7, .expectedKey),
        ("[01]", 2, .leadingZero),
        ("[-01]", 3, .leadingZero),
        ("[.5]", 1, .expectedValue),
        ("[1.]", 3, .expectedDigit),
        ("[1.e5]", 3, .expectedDigit),
        ("[1e]", 3, .expectedDigit),
        ("[+1]", 1, .expectedValue),
        ("[0x10]", 2, .expectedCommaOrEndOfArray),
        ("[\"\\x\"]", 3, .invalidEscape),
        ("[\"\\u12\"]", 6, .invalidUnicodeEscape),
        ("[\"\\u12G4\"]", 6, .invalidUnicodeEscape),
        ("[\"a\u{01}b\"]", 3, .controlCharacterInString),
        ("[\"tab\there\"]", 5, .controlCharacterInString),
        ("{\"a\":", 5, .unexpectedEnd),
        ("{\"a\"", 4, .unexpectedEnd),
        ("[\"abc", 5, .unexpectedEnd),
        ("{} x", 3, .trailingCharacters),
        ("{}{}", 2, .trailingCharacters),
        ("[1] [2]", 4, .trailingCharacters),
        ("['a']", 1, .expectedValue),
        ("{a:1}", 1, .expectedKey),
        ("{\"a\" 1}", 5, .expectedColon),
        ("{\"a\":1 \"b\":2}", 7, .expectedCommaOrEndOfObject),
        ("[1 2]", 3, .expectedCommaOrEndOfArray),
        ("[tru]", 1, .invalidLiteral),
        ("[nul]", 1, .invalidLiteral),
        ("[True]", 1, .expectedValue),
        ("// comment", 0, .expectedValue),
        ("", 0, .unexpectedEnd),
        ("   ", 3, .unexpectedEnd),
        ("{,}", 1, .expectedKey),
    ] as [(String, Int, JSONSyntaxError.Reason)])
    func invalidJSONIsAJSONErrorWithItsPosition(text: String, offset: Int, reason: JSONSyntaxError.Reason) {
        #expect(rejection(text) == .jsonError(JSONSyntaxError(offset: offset, reason: reason)))
    }

    @Test(arguments: [
        [0x5B, 0x22, 0xFF, 0x22, 0x5D],  // 0xFF is never UTF-8
        [0x5B, 0x22, 0xC0, 0x80, 0x22, 0x5D],  // overlong NUL
        [0x5B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x5D],  // an encoded surrogate
        [0x5B, 0x22, 0xF4, 0x90, 0x80, 0x80, 0x22, 0x5D],  // above U+10FFFF
        [0x5B, 0x22, 0xE2, 0x82, 0x22, 0x5D],  // truncated sequence
        [0x5B, 0xC3, 0xA9, 0x5D],  // non-ASCII outside a string
    ] as [[UInt8]])
    func invalidUTF8IsAJSONError(bytes: [UInt8]) {
        var decoder = JamnetDecoder()
        var samples: [Float] = []
        #expect(decoder.decode(bytes, samples: &samples).lineClass == .jsonError)
    }

    @Test func nestingBeyondTheLimitIsAJSONErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(rejection(deep) == .jsonError(JSONSyntaxError(offset: 1024, reason: .nestingTooDeep)))
        let deepInField = "{\"type\":\"jdat\",\"x\":" + String(repeating: "{\"a\":", count: 5000) + "1" + String(repeating: "}", count: 5000) + "}"
        #expect(lineClass(deepInField) == .jsonError)
    }

    @Test func truncationAtEveryByteOfAValidMessageIsAJSONError() {
        let line = "{\"type\":\"jdat\",\"timestamp_gpu\":-42,\"session_id\":\"s\\u00e9\",\"payload\":[0.5,-1e-3,0]}"
        #expect(lineClass(line) == .ok)
        let bytes = Array(line.utf8)
        for length in 1..<bytes.count {
            #expect(lineClass(String(decoding: bytes[..<length], as: UTF8.self)) == .jsonError, "\(length)")
        }
    }
}
