/// Why a line is not RFC 8259 JSON, and at which byte (0-based) the reader noticed.
public struct JSONSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Reason: Hashable, Sendable {
        case expectedValue
        case unexpectedEnd
        case leadingZero
        case expectedDigit
        case invalidLiteral
        case unterminatedString
        case controlCharacterInString
        case invalidEscape
        case invalidUnicodeEscape
        case invalidUTF8
        case expectedKey
        case expectedColon
        case expectedCommaOrEndOfObject
        case expectedCommaOrEndOfArray
        case trailingCharacters
        case nestingTooDeep
    }

    /// Byte offset into the line.
    public var offset: Int
    /// What is wrong there.
    public var reason: Reason

    /// Makes an error at `offset`.
    public init(offset: Int, reason: Reason) {
        self.offset = offset
        self.reason = reason
    }

    /// `"byte 17: expected ',' or '}'"`.
    public var description: String {
        let text: String
        switch reason {
        case .expectedValue: text = "expected a value"
        case .unexpectedEnd: text = "unexpected end of line"
        case .leadingZero: text = "number with a leading zero"
        case .expectedDigit: text = "expected a digit"
        case .invalidLiteral: text = "invalid literal (expected true, false or null)"
        case .unterminatedString: text = "unterminated string"
        case .controlCharacterInString: text = "raw control character in string"
        case .invalidEscape: text = "invalid escape sequence"
        case .invalidUnicodeEscape: text = "invalid \\u escape (expected 4 hex digits)"
        case .invalidUTF8: text = "invalid UTF-8"
        case .expectedKey: text = "expected a string key"
        case .expectedColon: text = "expected ':'"
        case .expectedCommaOrEndOfObject: text = "expected ',' or '}'"
        case .expectedCommaOrEndOfArray: text = "expected ',' or ']'"
        case .trailingCharacters: text = "trailing characters after the JSON value"
        case .nestingTooDeep: text = "nesting deeper than \(JSONReader.maximumDepth) levels"
        }
        return "byte \(offset): \(text)"
    }
}
