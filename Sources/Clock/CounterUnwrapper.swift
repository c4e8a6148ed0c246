import Core

/// Turns readings of a counter narrower than 64 bits into one ever-increasing value.
///
/// Each reading is placed at the distance from the newest reading so far that is smallest modulo
/// the counter's range, so readings may also step back a little (a reordered frame, one stamped
/// before the last calibration block) without moving the reference back. Correct while every
/// reading lies within half a wrap of the newest: a 32-bit counter at 1 GHz wraps every 4.3 s,
/// so within 2.1 s. Thread: the session's ingest thread. Non-allocating.
public struct CounterUnwrapper: Sendable {
    /// The counter's width, 1…64 (jamnet allows 16…64).
    public let bits: Int
    /// The newest unwrapped value, nil before the first reading.
    public private(set) var newest: Int64?

    /// Makes an unwrapper for a counter of `bits` bits.
    public init(bits: Int) {
        precondition((1...64).contains(bits), "counter width must be 1…64 bits")
        self.bits = bits
    }

    /// The unwrapped value of `reading` (which should lie in 0..<2^bits when bits < 64; only its
    /// low bits count). Nil, and nothing learnt, when the value would leave
    /// ±``Nanoseconds/networkLimit`` (a hostile sender walking the count up by half wraps).
    public mutating func unwrap(_ reading: Int64) -> Int64? {
        guard bits < 64, let reference = newest else {
            guard Nanoseconds(reading).isWithinNetworkLimit else { return nil }
            newest = max(newest ?? reading, reading)
            return reading
        }
        let modulus = UInt64(1) << UInt64(bits)
        let mask = modulus - 1
        // The step from the newest reading, modulo the range, taken as signed within ±half.
        var step = (UInt64(bitPattern: reading) &- UInt64(bitPattern: reference)) & mask
        if step >= modulus / 2 { step = step &- modulus }
        // Both within ±2^62: the sum cannot overflow.
        let value = reference + Int64(bitPattern: step)
        guard Nanoseconds(value).isWithinNetworkLimit else { return nil }
        newest = max(reference, value)
        return value
    }
}
