import Wire

/// A probe's `challenge`: 16 random bytes from the system's generator, as 32 lowercase hex digits.
public enum Challenge {
    /// A fresh challenge.
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var text: [UInt8] = []
        LineSignature.appendHex((0..<LineSignature.challengeBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }, to: &text)
        return String(decoding: text, as: UTF8.self)
    }
}
