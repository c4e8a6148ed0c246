/// An unsigned integer of up to 1536 bits in fixed inline storage, for exact decimal comparisons.
///
/// Only the slow path of ``DecimalFloatParser`` uses it, to decide a rounding that double precision
/// cannot settle. Thread: any. Non-allocating (the limbs live inline, not on the heap).
struct FixedBigUInt {
    static let limbCapacity = 48
    /// Little-endian 32-bit limbs; `count` of them are significant.
    private var limbs = InlineArray<48, UInt32>(repeating: 0)
    private var count = 0

    init(_ value: UInt64) {
        limbs[0] = UInt32(truncatingIfNeeded: value)
        limbs[1] = UInt32(truncatingIfNeeded: value >> 32)
        count = value == 0 ? 0 : (value >> 32 == 0 ? 1 : 2)
    }

    /// `self = self * factor + addend`.
    mutating func multiply(by factor: UInt32, adding addend: UInt32 = 0) {
        var carry = UInt64(addend)
        for index in 0..<count {
            let product = UInt64(limbs[index]) * UInt64(factor) + carry
            limbs[index] = UInt32(truncatingIfNeeded: product)
            carry = product >> 32
        }
        if carry != 0 {
            precondition(count < Self.limbCapacity, "FixedBigUInt overflow")
            limbs[count] = UInt32(carry)
            count += 1
        }
    }

    /// `self *= 5^exponent`.
    mutating func multiply(byPowerOfFive exponent: Int) {
        var remaining = exponent
        while remaining >= 13 {
            multiply(by: 1_220_703_125)  // 5^13, the largest power of five below 2^32
            remaining -= 13
        }
        if remaining > 0 {
            var factor: UInt32 = 1
            for _ in 0..<remaining { factor *= 5 }
            multiply(by: factor)
        }
    }

    /// `self <<= bits`.
    mutating func shiftLeft(by bits: Int) {
        guard count > 0, bits > 0 else { return }
        let limbShift = bits / 32
        let bitShift = bits % 32
        precondition(count + limbShift + 1 <= Self.limbCapacity, "FixedBigUInt overflow")
        if bitShift == 0 {
            for index in stride(from: count - 1, through: 0, by: -1) { limbs[index + limbShift] = limbs[index] }
        } else {
            limbs[count + limbShift] = 0
            for index in stride(from: count - 1, through: 0, by: -1) {
                let limb = limbs[index]
                limbs[index + limbShift + 1] |= limb >> (32 - bitShift)
                limbs[index + limbShift] = limb << bitShift
            }
        }
        for index in 0..<limbShift { limbs[index] = 0 }
        count += limbShift + 1
        while count > 0 && limbs[count - 1] == 0 { count -= 1 }
    }

    /// Three-way comparison: -1, 0 or 1.
    static func compare(_ lhs: FixedBigUInt, _ rhs: FixedBigUInt) -> Int {
        if lhs.count != rhs.count { return lhs.count < rhs.count ? -1 : 1 }
        for index in stride(from: lhs.count - 1, through: 0, by: -1) where lhs.limbs[index] != rhs.limbs[index] {
            return lhs.limbs[index] < rhs.limbs[index] ? -1 : 1
        }
        return 0
    }
}
