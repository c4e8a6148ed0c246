/// A line's authentication fields (jamnet/1.2) as the decoder found them, before anything checks
/// the code: which key, which counter, the code, and which bytes it covers.
///
/// An authenticated line ends, before its line ending, with exactly the ``trailerLength`` bytes
/// `"mac":"` + 64 lowercase hex digits + `"}`; the code is HMAC-SHA-256 over every byte of the
/// line before them (PROTOCOL.md §3b). A field that is missing or malformed is nil here (the
/// decoder also rejects the line as an `invalid-field`).
public struct LineSignature: Sendable {
    /// Bytes in a code: HMAC-SHA-256.
    public static let codeBytes = 32
    /// `"mac":"` + 64 hex digits + `"}`: what follows the signed bytes.
    public static let trailerLength = 73
    /// Key ids: 1 to 64 of `A-Z a-z 0-9 . _ -`.
    public static let keyIDLimit = 64
    /// Bytes in a probe's `challenge` (32 hex digits on the wire).
    public static let challengeBytes = 16

    /// `key_id`: which of the receiver's keys signed it.
    public var keyID: String?
    /// `auth_counter`: the session's line counter.
    public var counter: UInt64?
    /// `mac`, decoded from hex.
    public var code: InlineArray<32, UInt8>?
    /// How many of the line's first bytes the code covers, when the `mac` field is where it must
    /// be (the object's last member, ending the line); nil when it is anywhere else.
    public var signedByteCount: Int?
    /// Whether the line has a `mac` field at all (well-formed or not): without one it is unsigned.
    public var codeFieldGiven: Bool

    /// Makes a signature (the decoder fills it field by field).
    public init(keyID: String? = nil, counter: UInt64? = nil, code: InlineArray<32, UInt8>? = nil, signedByteCount: Int? = nil,
                codeFieldGiven: Bool = false) {
        self.codeFieldGiven = codeFieldGiven
        self.keyID = keyID
        self.counter = counter
        self.code = code
        self.signedByteCount = signedByteCount
    }

    /// Whether `id` may be a `key_id`.
    public static func isValidKeyID(_ id: some Collection<UInt8>) -> Bool {
        guard (1...keyIDLimit).contains(id.count) else { return false }
        return id.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"): true
            default: false
            }
        }
    }

    /// The value of a lowercase hex digit, or nil.
    static func lowercaseHexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// Whether `bytes` are exactly `count` lowercase hex digits.
    static func isLowercaseHex(_ bytes: UnsafeBufferPointer<UInt8>, count: Int) -> Bool {
        bytes.count == count && bytes.allSatisfy { lowercaseHexValue($0) != nil }
    }

    /// Appends the signature's first two fields to an encoded message (which ends with `}`):
    /// `,"key_id":"ID","auth_counter":N,` in place of the `}`. The code is then computed over
    /// `output` and closed with ``appendCode(_:to:)``.
    public static func appendFields(keyID: String, counter: UInt64, to output: inout [UInt8]) {
        precondition(output.last == UInt8(ascii: "}") && isValidKeyID(keyID.utf8), "a message, and a valid key id")
        output.removeLast()
        output.append(contentsOf: #","key_id":""#.utf8)
        output.append(contentsOf: keyID.utf8)
        output.append(contentsOf: #"","auth_counter":"#.utf8)
        output.append(contentsOf: String(counter).utf8)
        output.append(UInt8(ascii: ","))
    }

    /// Appends `"mac":"HEX"}`: the code, and the end of the object.
    public static func appendCode(_ code: some Collection<UInt8>, to output: inout [UInt8]) {
        precondition(code.count == codeBytes)
        output.append(contentsOf: #""mac":""#.utf8)
        appendHex(code, to: &output)
        output.append(contentsOf: #""}"#.utf8)
    }

    /// Appends `bytes` as lowercase hex.
    public static func appendHex(_ bytes: some Collection<UInt8>, to output: inout [UInt8]) {
        let digits: StaticString = "0123456789abcdef"
        for byte in bytes {
            output.append(digits.utf8Start[Int(byte >> 4)])
            output.append(digits.utf8Start[Int(byte & 15)])
        }
    }
}
