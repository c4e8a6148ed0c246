/// Correctly rounded conversion of a JSON number's digits to the nearest `Float`.
///
/// The fast path multiplies the first 19 significant digits by a correctly rounded power of ten in
/// double precision; its error (a few double ulps) can change the `Float` rounding only when the
/// double lands next to a `Float` midpoint, which the 29 spare bits show. Those rare cases, and the
/// subnormal and overflow edges, are settled exactly by comparing the decimal with the midpoint in
/// big-integer arithmetic. Thread: any. Non-allocating.
enum DecimalFloatParser {
    /// Significant digits the fast path keeps; 10^19 < 2^64.
    static let fastDigits = 19
    /// Significant digits the exact path keeps: a `Float` midpoint has at most 113, so the rest
    /// only matter through a sticky "non-zero digit dropped" bit.
    static let exactDigits = 128

    /// Smallest and largest power of ten in ``powersOfTen``.
    static let minimumPower = -64
    static let maximumPower = 38

    /// 10^-64 … 10^38, each correctly rounded to `Double` by the compiler.
    nonisolated(unsafe) static let powersOfTen: UnsafePointer<Double> = {
        let table: [Double] = [
            1e-64, 1e-63, 1e-62, 1e-61, 1e-60, 1e-59, 1e-58, 1e-57, 1e-56, 1e-55, 1e-54, 1e-53, 1e-52,
            1e-51, 1e-50, 1e-49, 1e-48, 1e-47, 1e-46, 1e-45, 1e-44, 1e-43, 1e-42, 1e-41, 1e-40, 1e-39,
            1e-38, 1e-37, 1e-36, 1e-35, 1e-34, 1e-33, 1e-32, 1e-31, 1e-30, 1e-29, 1e-28, 1e-27, 1e-26,
            1e-25, 1e-24, 1e-23, 1e-22, 1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15, 1e-14, 1e-13,
            1e-12, 1e-11, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e0,
            1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
            1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30,
            1e31, 1e32, 1e33, 1e34, 1e35, 1e36, 1e37, 1e38,
        ]
        precondition(table.count == maximumPower - minimumPower + 1)
        let storage = UnsafeMutablePointer<Double>.allocate(capacity: table.count)
        storage.initialize(from: table, count: table.count)
        return UnsafePointer(storage)
    }()

    /// 10^0 … 10^8, for accumulating digits.
    nonisolated(unsafe) static let integerPowersOfTen: UnsafePointer<UInt64> = {
        let storage = UnsafeMutablePointer<UInt64>.allocate(capacity: 9)
        var power: UInt64 = 1
        for index in 0..<9 {
            storage[index] = power
            power *= 10
        }
        return UnsafePointer(storage)
    }()

    /// The nearest `Float` to `significand × 10^exponent` (magnitude), or nil when it overflows.
    ///
    /// `significand` holds the first (up to 19) significant digits, `exponent` the power of ten of
    /// its last digit, and `digits` the whole number's text, which the exact path re-reads when
    /// double precision cannot decide. `powers` is ``powersOfTen``.
    @inline(__always)
    static func magnitude(significand: UInt64, exponent: Int, digits: UnsafeRawBufferPointer, powers: UnsafePointer<Double>) -> Float? {
        if significand == 0 { return 0 }
        // x < 10^(exponent+19) ≤ 10^-46 < 2^-150: rounds to zero. x ≥ 10^39 > 2^128: overflow.
        if exponent + fastDigits <= -46 { return 0 }
        if exponent > maximumPower { return nil }
        // A signed conversion is one instruction; only 19-digit significands need the unsigned one.
        let significandValue = significand <= UInt64(Int64.max) ? Double(Int64(bitPattern: significand)) : Double(significand)
        let approximate = significandValue * powers[exponent - minimumPower]
        let bits = approximate.bitPattern
        let binaryExponent = Int(bits >> 52) - 1023
        if binaryExponent >= -126 && binaryExponent <= 127 {
            // The 29 bits below Float precision; 0x1000_0000 is exactly halfway between two Floats.
            // The double is within 4 ulps of the true value, so 64 ulps away from the midpoint
            // the rounding is certain (the overflow threshold is such a midpoint too).
            let spare = bits & 0x1FFF_FFFF
            let distance = spare > 0x1000_0000 ? spare - 0x1000_0000 : 0x1000_0000 - spare
            if distance > 64 {
                let result = Float(approximate)
                return result.isFinite ? result : nil
            }
        }
        return exactMagnitude(near: approximate, digits: digits)
    }

    /// The slow, exact path: starting from a candidate, move to the neighbour while the decimal
    /// lies beyond the midpoint between them (ties to even).
    static func exactMagnitude(near approximate: Double, digits: UnsafeRawBufferPointer) -> Float? {
        let decimal = ExactDecimal(digits)
        var candidate = Float(approximate)
        if candidate.isInfinite { candidate = .greatestFiniteMagnitude }
        while true {
            // Above the candidate: the midpoint to the next Float (or to 2^128, the overflow threshold).
            let upperMidpoint = candidate == .greatestFiniteMagnitude
                ? 0x1.FFFFFFp127 : (Double(candidate) + Double(candidate.nextUp)) / 2
            let upper = decimal.compare(to: upperMidpoint)
            if upper > 0 || (upper == 0 && candidate.bitPattern & 1 == 1) {
                if candidate == .greatestFiniteMagnitude { return nil }
                candidate = candidate.nextUp
                continue
            }
            if candidate > 0 {
                let lowerMidpoint = (Double(candidate) + Double(candidate.nextDown)) / 2
                let lower = decimal.compare(to: lowerMidpoint)
                if lower < 0 || (lower == 0 && candidate.bitPattern & 1 == 1) {
                    candidate = candidate.nextDown
                    continue
                }
            }
            return candidate
        }
    }
}

/// A decimal number's magnitude kept exactly to ``DecimalFloatParser/exactDigits`` significant
/// digits plus a sticky bit for the rest. Thread: any. Non-allocating.
struct ExactDecimal {
    var digits: FixedBigUInt = FixedBigUInt(0)
    /// Power of ten of the last kept digit.
    var exponent = 0
    /// A non-zero digit was dropped: the value lies strictly above `digits × 10^exponent`.
    var sticky = false

    /// Reads a JSON number token that has already been validated.
    init(_ text: UnsafeRawBufferPointer) {
        var kept = 0
        var pendingChunk: UInt32 = 0
        var pendingDigits = 0
        var fractionDigits = 0
        var afterPoint = false
        var index = 0
        if text[0] == UInt8(ascii: "-") { index = 1 }
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: ".") { afterPoint = true; index += 1; continue }
            if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { break }
            let digit = UInt32(byte &- UInt8(ascii: "0"))
            if kept < DecimalFloatParser.exactDigits {
                if kept > 0 || digit != 0 {
                    pendingChunk = pendingChunk * 10 + digit
                    pendingDigits += 1
                    kept += 1
                    if pendingDigits == 9 {
                        digits.multiply(by: 1_000_000_000, adding: pendingChunk)
                        pendingChunk = 0
                        pendingDigits = 0
                    }
                }
                if afterPoint { fractionDigits += 1 }
            } else {
                if digit != 0 { sticky = true }
                if !afterPoint { exponent += 1 }
            }
            index += 1
        }
        if pendingDigits > 0 {
            var scale: UInt32 = 1
            for _ in 0..<pendingDigits { scale *= 10 }
            digits.multiply(by: scale, adding: pendingChunk)
        }
        exponent -= fractionDigits
        if index < text.count {  // exponent part; saturated, as the value is decided long before.
            index += 1
            var negative = false
            if text[index] == UInt8(ascii: "-") { negative = true; index += 1 } else if text[index] == UInt8(ascii: "+") { index += 1 }
            var explicit = 0
            while index < text.count {
                if explicit < 100_000_000 { explicit = explicit * 10 + Int(text[index] &- UInt8(ascii: "0")) }
                index += 1
            }
            exponent += negative ? -explicit : explicit
        }
    }

    /// Three-way comparison of this decimal with a positive, finite double.
    func compare(to value: Double) -> Int {
        let significand = value.significandBitPattern | (value.isNormal ? 1 << 52 : 0)
        let binaryExponent = value.isNormal ? Int(value.exponent) - 52 : -1074
        var lhs = digits
        var rhs = FixedBigUInt(significand)
        // digits × 10^e = digits × 5^e × 2^e against significand × 2^b: move each factor to one side.
        if exponent >= 0 { lhs.multiply(byPowerOfFive: exponent) } else { rhs.multiply(byPowerOfFive: -exponent) }
        if exponent >= binaryExponent { lhs.shiftLeft(by: exponent - binaryExponent) } else { rhs.shiftLeft(by: binaryExponent - exponent) }
        let order = FixedBigUInt.compare(lhs, rhs)
        return order == 0 && sticky ? 1 : order
    }
}
