import Core
import Testing
import Wire

/// jamnet/1.2's signature fields as the decoder reads them: their form checked for every message
/// type, the code's place found, nothing else (the code itself is checked with a key, elsewhere).
@Suite struct SignatureFieldTests {
    static let code = String(repeating: "ab", count: 32)
    static let body = #"{"type":"jdat","timestamp_cpu":1,"payload":[0.5]"#

    static func signature(_ line: String) -> LineSignature? {
        var decoder = JamnetDecoder()
        var samples = [Float](repeating: 0, count: 8)
        _ = decoder.decode(Array(line.utf8), samples: &samples)
        return decoder.signature
    }

    @Test func aSignedLineDecodesAndItsSignatureSaysWhatItCovers() throws {
        let line = Self.body + #","key_id":"stage-1","auth_counter":18446744073709551615,"mac":"\#(Self.code)"}"#
        #expect(lineClass(line) == .ok)
        let signature = try #require(Self.signature(line))
        #expect(signature.keyID == "stage-1" && signature.counter == .max && signature.codeFieldGiven)
        #expect(signature.code.map { code in (0..<32).allSatisfy { code[$0] == 0xAB } } == true)
        #expect(signature.signedByteCount == line.utf8.count - LineSignature.trailerLength)
        #expect(line.utf8.dropFirst(signature.signedByteCount!).elementsEqual(#""mac":"\#(Self.code)"}"#.utf8))
    }

    @Test func aLineWithoutTheFieldsHasNoSignature() {
        #expect(Self.signature(Self.body + "}") == nil)
        #expect(Self.signature("not json") == nil)
    }

    @Test(arguments: [
        (#","key_id":"","auth_counter":1,"mac":"\#(code)"}"#, FieldName.keyID),
        (#","key_id":"a/b","auth_counter":1,"mac":"\#(code)"}"#, .keyID),
        (#","key_id":"\#(String(repeating: "k", count: 65))","auth_counter":1,"mac":"\#(code)"}"#, .keyID),
        (#","key_id":"k","auth_counter":-1,"mac":"\#(code)"}"#, .authCounter),
        (#","key_id":"k","auth_counter":1.5,"mac":"\#(code)"}"#, .authCounter),
        (#","key_id":"k","auth_counter":1,"mac":"\#(code.uppercased())"}"#, .mac),
        (#","key_id":"k","auth_counter":1,"mac":"\#(code.dropLast())"}"#, .mac),
        (#","key_id":"k","auth_counter":1,"mac":7}"#, .mac),
    ])
    func aMalformedFieldIsAnInvalidFieldThatNamesIt(suffix: String, field: FieldName) {
        guard case .invalidField(let invalid) = rejection(Self.body + suffix) else { Issue.record("not an invalid-field: \(suffix)"); return }
        #expect(invalid.field == field)
    }

    @Test func aCodeThatIsNotTheLastMemberCoversNothing() throws {
        let moved = #"{"mac":"\#(Self.code)","type":"jdat","timestamp_cpu":1,"payload":[0.5],"key_id":"k","auth_counter":1}"#
        #expect(lineClass(moved) == .ok)
        #expect(try #require(Self.signature(moved)).signedByteCount == nil)
        let spaced = Self.body + #","key_id":"k","auth_counter":1,"mac": "\#(Self.code)"}"#
        #expect(try #require(Self.signature(spaced)).signedByteCount == nil)
        let twice = Self.body + #","mac":"\#(Self.code)","key_id":"k","auth_counter":1,"mac":"\#(Self.code)"}"#
        #expect(rejection(twice) == .invalidField(InvalidField(.mac, .duplicate)))
        #expect(try #require(Self.signature(twice)).code == nil)
    }

    @Test func aProbesChallengeIsThirtyTwoLowercaseHexDigits() {
        let probe = #"{"type":"clock_probe","probe_id":1,"timestamp_probe_sent":5,"challenge":"#
        #expect(lineClass(probe + #""00112233445566778899aabbccddeeff"}"#) == .ok)
        #expect(rejection(probe + #""00112233445566778899AABBCCDDEEFF"}"#) == .invalidField(InvalidField(.challenge, .unknownValue(allowed: "32 lowercase hex digits"))))
        #expect(lineClass(probe + #""0011"}"#) == .invalidField)
    }
}
