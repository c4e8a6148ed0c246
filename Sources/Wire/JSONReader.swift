/// A forward-only RFC 8259 reader over one line's bytes: validates as it goes, never allocates.
///
/// It reads tokens in place (strings come back as byte ranges, numbers straight into `Float`s or
/// exact integers); ``skipValue()`` validates a whole nested value iteratively, so no input can
/// exhaust the stack. Thread: the decoding thread. Non-allocating.
struct JSONReader {
    /// RFC 8259 §9 lets a parser limit nesting; deeper input is a ``JSONSyntaxError``.
    static let maximumDepth = 1024

    let base: UnsafePointer<UInt8>
    let end: Int
    var position = 0
    /// The number tables, fetched once per line rather than through a lazy global per number.
    let decimalPowers = DecimalFloatParser.powersOfTen
    let integerPowers = DecimalFloatParser.integerPowersOfTen

    init(_ bytes: UnsafeRawBufferPointer) {
        // A zero-length line still needs a valid pointer; it is never read.
        base = bytes.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) } ?? UnsafePointer(bitPattern: 1)!
        end = bytes.count
    }

    var isAtEnd: Bool { position >= end }

    /// The byte at the cursor, or 0 at the end (NUL is never valid JSON outside a string).
    @inline(__always) var current: UInt8 { position < end ? base[position] : 0 }

    func error(_ reason: JSONSyntaxError.Reason) -> JSONSyntaxError {
        JSONSyntaxError(offset: position, reason: position >= end && reason != .trailingCharacters ? .unexpectedEnd : reason)
    }

    @inline(__always) mutating func skipWhitespace() {
        while position < end {
            let byte = base[position]
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
            position += 1
        }
    }

    /// Consumes `byte` or throws `reason`.
    @inline(__always) mutating func expect(_ byte: UInt8, else reason: JSONSyntaxError.Reason) throws(JSONSyntaxError) {
        guard current == byte else { throw error(reason) }
        position += 1
    }

    // MARK: Strings

    /// Reads a string whose opening quote is at the cursor; returns its raw contents' range.
    mutating func readString() throws(JSONSyntaxError) -> StringToken {
        position += 1  // opening quote
        let start = position
        var hasEscapes = false
        while true {
            guard position < end else { throw error(.unterminatedString) }
            let byte = base[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return StringToken(start: start, end: position - 1, hasEscapes: hasEscapes)
            }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                try skipEscape()
            } else if byte < 0x20 {
                throw error(.controlCharacterInString)
            } else if byte < 0x80 {
                position += 1
            } else {
                try skipUTF8Sequence()
            }
        }
    }

    private mutating func skipEscape() throws(JSONSyntaxError) {
        position += 1
        switch current {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position += 1
        case UInt8(ascii: "u"):
            position += 1
            for _ in 0..<4 {
                guard Self.hexValue(current) != nil else { throw error(.invalidUnicodeEscape) }
                position += 1
            }
        default:
            throw error(.invalidEscape)
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// One well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
    private mutating func skipUTF8Sequence() throws(JSONSyntaxError) {
        let lead = base[position]
        let length: Int
        var lowerBound: UInt8 = 0x80
        var upperBound: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lowerBound = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upperBound = 0x9F
        case 0xF0: length = 4; lowerBound = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upperBound = 0x8F
        default: throw error(.invalidUTF8)
        }
        guard end - position >= length else { throw JSONSyntaxError(offset: position, reason: .invalidUTF8) }
        let second = base[position + 1]
        guard second >= lowerBound && second <= upperBound else { throw JSONSyntaxError(offset: position, reason: .invalidUTF8) }
        for index in 2..<max(length, 2) where base[position + index] & 0xC0 != 0x80 {
            throw JSONSyntaxError(offset: position, reason: .invalidUTF8)
        }
        position += length
    }

    // MARK: Numbers

    /// Validates a number token at the cursor; returns whether it was a plain integer.
    @discardableResult
    mutating func skipNumber() throws(JSONSyntaxError) -> Bool {
        if current == UInt8(ascii: "-") { position += 1 }
        if current == UInt8(ascii: "0") {
            position += 1
            if Self.isDigit(current) { throw error(.leadingZero) }
        } else if Self.isDigit(current) {
            while Self.isDigit(current) { position += 1 }
        } else {
            throw error(.expectedDigit)
        }
        var isInteger = true
        if current == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard Self.isDigit(current) else { throw error(.expectedDigit) }
            while Self.isDigit(current) { position += 1 }
        }
        if current | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard Self.isDigit(current) else { throw error(.expectedDigit) }
            while Self.isDigit(current) { position += 1 }
        }
        return isInteger
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// Reads a number token as the nearest `Float`; NaN when it is beyond the `Float` range.
    ///
    /// One pass: the grammar check and the digit accumulation of ``DecimalFloatParser`` together.
    @inline(__always)
    mutating func readSample() throws(JSONSyntaxError) -> Float {
        if end &- position >= Self.shortNumberWindow, let value = readShortFloat() { return value }
        return try readAnyFloat() ?? .nan
    }

    /// Bytes the short-number path may read without bounds checks.
    static let shortNumberWindow = 32

    /// The common sample shape, `-?D(.D+)?([eE][+-]?D{1,3})?` with at most 15 fraction digits,
    /// read without per-byte bounds checks (the caller guarantees ``shortNumberWindow`` bytes).
    /// Returns nil, consuming nothing, for anything else, which ``readAnyFloat()`` then reads or
    /// rejects; NaN stands for "valid but beyond the Float range". Always inlined: the payload
    /// loop calls it for every sample, and the compiler's heuristics (`@inline(__always)` is only
    /// a hint to them) would not inline it.
    @inline(always)
    mutating func readShortFloat() -> Float? {
        let text = base + position
        let negative = text[0] == UInt8(ascii: "-")
        var index = negative ? 1 : 0
        let digit = text[index] &- UInt8(ascii: "0")
        guard digit < 10 else { return nil }
        var significand = UInt64(digit)
        index &+= 1
        var exponent = 0
        var next = text[index]
        if next == UInt8(ascii: ".") {
            // The fraction's digits eight bytes at a time, two chunks at most (16 digits < 2^64):
            // a shortest Float text has at most 9 significant digits, a 6-decimal one 6.
            let first = UInt64(littleEndian: UnsafeRawPointer(text + index + 1).loadUnaligned(as: UInt64.self))
            let firstRun = Self.leadingDigitCount(first)
            guard firstRun > 0 else { return nil }
            significand = significand &* integerPowers[firstRun] &+ Self.digitsValue(first, count: firstRun)
            index &+= 1 &+ firstRun
            var fractionDigits = firstRun
            if firstRun == 8 {
                let second = UInt64(littleEndian: UnsafeRawPointer(text + index).loadUnaligned(as: UInt64.self))
                let secondRun = Self.leadingDigitCount(second)
                guard secondRun < 8 else { return nil }
                if secondRun > 0 {
                    significand = significand &* integerPowers[secondRun] &+ Self.digitsValue(second, count: secondRun)
                    index &+= secondRun
                    fractionDigits &+= secondRun
                }
            }
            exponent = -fractionDigits
            next = text[index]
        } else if next &- UInt8(ascii: "0") < 10 {
            return nil  // several integer digits or a leading zero: the general path
        }
        if next | 0x20 == UInt8(ascii: "e") {
            index &+= 1
            let negativeExponent = text[index] == UInt8(ascii: "-")
            if negativeExponent || text[index] == UInt8(ascii: "+") { index &+= 1 }
            var explicit = 0
            var exponentDigits = 0
            var exponentDigit = text[index] &- UInt8(ascii: "0")
            while exponentDigit < 10 && exponentDigits < 4 {
                explicit = explicit &* 10 &+ Int(exponentDigit)
                exponentDigits &+= 1
                index &+= 1
                exponentDigit = text[index] &- UInt8(ascii: "0")
            }
            guard exponentDigits > 0 && exponentDigits < 4 else { return nil }
            exponent &+= negativeExponent ? -explicit : explicit
        }
        let digits = UnsafeRawBufferPointer(start: text, count: index)
        position &+= index
        guard let magnitude = DecimalFloatParser.magnitude(significand: significand, exponent: exponent, digits: digits, powers: decimalPowers) else { return .nan }
        return negative ? -magnitude : magnitude
    }

    /// Any number token, with bounds checks on every byte. Its positions and counts are bounded
    /// by the line length, so the arithmetic wraps unchecked (overflow checks cost time here).
    private mutating func readAnyFloat() throws(JSONSyntaxError) -> Float? {
        let start = position
        var negative = false
        if current == UInt8(ascii: "-") { negative = true; position &+= 1 }
        var significand: UInt64 = 0
        var significantDigits = 0
        var exponent = 0
        var digit = current &- UInt8(ascii: "0")
        if digit == 0 {
            position &+= 1
            if Self.isDigit(current) { throw error(.leadingZero) }
        } else if digit < 10 {
            repeat {
                if significantDigits < DecimalFloatParser.fastDigits {
                    significand = significand &* 10 &+ UInt64(digit)
                    significantDigits &+= 1
                } else {
                    exponent &+= 1
                }
                position &+= 1
                digit = current &- UInt8(ascii: "0")
            } while digit < 10
        } else {
            throw error(.expectedDigit)
        }
        if current == UInt8(ascii: ".") {
            position &+= 1
            digit = current &- UInt8(ascii: "0")
            guard digit < 10 else { throw error(.expectedDigit) }
            while digit < 10 {
                // Digits past the 19th only nudge the value by < 10^-18 relative: the fast path's
                // error bound covers that, and the exact path re-reads them all.
                if significantDigits < DecimalFloatParser.fastDigits {
                    significand = significand &* 10 &+ UInt64(digit)
                    exponent &-= 1
                    if significand != 0 { significantDigits &+= 1 }
                }
                position &+= 1
                digit = current &- UInt8(ascii: "0")
            }
        }
        if current | 0x20 == UInt8(ascii: "e") {
            position &+= 1
            var negativeExponent = false
            if current == UInt8(ascii: "-") { negativeExponent = true; position &+= 1 } else if current == UInt8(ascii: "+") { position &+= 1 }
            digit = current &- UInt8(ascii: "0")
            guard digit < 10 else { throw error(.expectedDigit) }
            var explicit = 0
            repeat {
                // Saturate: any exponent this large already decides zero or overflow.
                if explicit < 100_000_000 { explicit = explicit &* 10 &+ Int(digit) }
                position &+= 1
                digit = current &- UInt8(ascii: "0")
            } while digit < 10
            exponent &+= negativeExponent ? -explicit : explicit
        }
        let text = UnsafeRawBufferPointer(start: base + start, count: position - start)
        guard let magnitude = DecimalFloatParser.magnitude(
            significand: significand, exponent: exponent, digits: text, powers: decimalPowers)
        else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// How many of the eight bytes in `chunk` (first byte lowest) are ASCII digits before the first
    /// that is not (SWAR: no loop over bytes).
    @inline(__always)
    static func leadingDigitCount(_ chunk: UInt64) -> Int {
        let offsets = chunk ^ 0x3030_3030_3030_3030  // digits become 0…9
        // Bit 7 of a byte ends up set when its offset is 10 or more (or the byte was ≥ 0x80);
        // masking to 7 bits first keeps the addition from carrying into the next byte.
        let notDigits = (((offsets & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7676_7676_7676_7676) | offsets) & 0x8080_8080_8080_8080
        return notDigits.trailingZeroBitCount >> 3
    }

    /// The decimal value of the first `count` (1…8) digit bytes of `chunk` (SWAR).
    @inline(__always)
    static func digitsValue(_ chunk: UInt64, count: Int) -> UInt64 {
        // Shift the digits to the top so the bytes below read as leading zeros.
        var value = (chunk << UInt64(64 &- 8 &* count)) & 0x0F0F_0F0F_0F0F_0F0F
        value = (value &* 2561) >> 8  // pairs of digits
        value = ((value & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16  // groups of four
        return ((value & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
    }

    /// Reads a number token; returns its exact integer value if it is a plain integer token.
    mutating func readInteger() throws(JSONSyntaxError) -> IntegerToken {
        let start = position
        guard try skipNumber() else { return .notAnInteger }
        var index = start
        let negative = base[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var magnitude: UInt64 = 0
        while index < position {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(base[index] - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return .outOfRange }
            magnitude = sum
            index += 1
        }
        return .integer(negative: negative && magnitude != 0, magnitude: magnitude)
    }

    /// Reads a number token as the nearest `Double` (rare fields only: uses the standard library).
    mutating func readDouble() throws(JSONSyntaxError) -> Double? {
        let start = position
        try skipNumber()
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: position - start), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    // MARK: Whole values

    private mutating func skipLiteral() throws(JSONSyntaxError) {
        let expected: StaticString
        switch current {
        case UInt8(ascii: "t"): expected = "true"
        case UInt8(ascii: "f"): expected = "false"
        default: expected = "null"
        }
        let length = expected.utf8CodeUnitCount
        guard end - position >= length else { throw error(.invalidLiteral) }
        for index in 0..<length where base[position + index] != expected.utf8Start[index] {
            throw error(.invalidLiteral)
        }
        position += length
    }

    /// Validates and skips one complete value at the cursor (after whitespace), any depth up to
    /// ``maximumDepth`` minus `depth` (the nesting the caller is already in).
    mutating func skipValue(depth outerDepth: Int = 0) throws(JSONSyntaxError) {
        // One bit per open container: 1 = object, 0 = array.
        var kinds = InlineArray<16, UInt64>(repeating: 0)
        var depth = 0
        let limit = Self.maximumDepth - outerDepth
        while true {
            skipWhitespace()
            // A value starts here.
            switch current {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = current == UInt8(ascii: "{")
                guard depth < limit else { throw error(.nestingTooDeep) }
                if isObject { kinds[depth >> 6] |= 1 << UInt64(depth & 63) } else { kinds[depth >> 6] &= ~(1 << UInt64(depth & 63)) }
                depth += 1
                position += 1
                skipWhitespace()
                if current == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    position += 1
                    depth -= 1
                } else if isObject {
                    try readMemberKey()
                    continue
                } else {
                    continue
                }
            case UInt8(ascii: "\""): _ = try readString()
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): try skipLiteral()
            default: throw error(.expectedValue)
            }
            // After a value: close containers or move to the next element.
            while true {
                if depth == 0 { return }
                skipWhitespace()
                let inObject = kinds[(depth - 1) >> 6] & (1 << UInt64((depth - 1) & 63)) != 0
                if current == UInt8(ascii: ",") {
                    position += 1
                    if inObject { try readMemberKey() }
                    break
                }
                guard current == (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else {
                    throw error(inObject ? .expectedCommaOrEndOfObject : .expectedCommaOrEndOfArray)
                }
                position += 1
                depth -= 1
            }
        }
    }

    /// `"key" :` inside an object, leaving the cursor before the value.
    mutating func readMemberKey() throws(JSONSyntaxError) {
        skipWhitespace()
        guard current == UInt8(ascii: "\"") else { throw error(.expectedKey) }
        _ = try readString()
        skipWhitespace()
        try expect(UInt8(ascii: ":"), else: .expectedColon)
    }
}

/// A plain integer token's exact value, or why it has none.
enum IntegerToken {
    case integer(negative: Bool, magnitude: UInt64)
    case notAnInteger
    case outOfRange

    /// The value as `Int64`, if it is an integer in range.
    var int64: Int64? {
        guard case .integer(let negative, let magnitude) = self else { return nil }
        if negative { return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// The value as `UInt64`, if it is a non-negative integer in range.
    var uint64: UInt64? {
        guard case .integer(let negative, let magnitude) = self, !negative else { return nil }
        return magnitude
    }
}

/// A string token's raw contents (between the quotes) as offsets into the line.
struct StringToken {
    var start: Int
    var end: Int
    /// Contains backslash escapes, so the raw bytes are not the value.
    var hasEscapes: Bool

    var count: Int { end - start }
}
