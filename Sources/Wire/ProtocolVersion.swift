/// A jamnet protocol version, `jamnet/MAJOR.MINOR`.
public struct ProtocolVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Incompatible changes.
    public var major: Int
    /// Compatible additions.
    public var minor: Int

    /// Makes `jamnet/major.minor`.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// A message without `version` is `jamnet/1.0`.
    public static let assumed = ProtocolVersion(major: 1, minor: 0)
    /// What the encoder writes on frames and calibration blocks (they need nothing newer).
    public static let current = ProtocolVersion(major: 1, minor: 0)
    /// The minor version that added `clock_probe` and `clock_echo`.
    public static let clockExchange = ProtocolVersion(major: 1, minor: 1)
    /// The minor version that added authenticated lines (`key_id`, `auth_counter`, `mac`) and the
    /// probe's `challenge`.
    public static let authentication = ProtocolVersion(major: 1, minor: 2)
    /// The one major version accepted: any `jamnet/1.x`.
    public static let supportedMajor = 1

    /// `"jamnet/1.0"`.
    public var description: String { "jamnet/\(major).\(minor)" }

    public static func < (lhs: ProtocolVersion, rhs: ProtocolVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    /// Parses `jamnet/MAJOR.MINOR` (decimal numbers of up to 9 digits, no leading zeros).
    init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        let prefix: StaticString = "jamnet/"
        let prefixLength = prefix.utf8CodeUnitCount
        guard bytes.count > prefixLength else { return nil }
        for index in 0..<prefixLength where bytes[index] != prefix.utf8Start[index] { return nil }
        var numbers = (0, 0)
        var part = 0
        var digits = 0
        var leadingZero = false
        for index in prefixLength..<bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "."), part == 0, digits > 0 {
                part = 1
                digits = 0
                leadingZero = false
                continue
            }
            guard JSONReader.isDigit(byte), digits < 9, !leadingZero else { return nil }
            if digits == 0 && byte == UInt8(ascii: "0") { leadingZero = true }
            let value = Int(byte - UInt8(ascii: "0"))
            if part == 0 { numbers.0 = numbers.0 * 10 + value } else { numbers.1 = numbers.1 * 10 + value }
            digits += 1
        }
        guard part == 1, digits > 0 else { return nil }
        self.init(major: numbers.0, minor: numbers.1)
    }
}
