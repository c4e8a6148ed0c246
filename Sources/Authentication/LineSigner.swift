import Synchronization
import Wire

/// Signs lines with one key and one counter that goes up by one for every line signed.
///
/// Thread: any (the counter is atomic, so a sender's loop and its probe responder can share it).
public final class LineSigner: Sendable {
    /// The key lines are signed with.
    public let key: AuthenticationKey
    private let nextCounter: Atomic<UInt64>

    /// Signs with `key`, counting from `firstCounter`.
    public init(key: AuthenticationKey, firstCounter: UInt64 = 1) {
        self.key = key
        nextCounter = Atomic(firstCounter)
    }

    /// Signs an encoded message in place: `line` is one JSON object, optionally followed by its
    /// `\n`; it gets `key_id`, `auth_counter` and, last, `mac`.
    public func sign(_ line: inout [UInt8]) {
        let newline = line.last == UInt8(ascii: "\n")
        if newline { line.removeLast() }
        let counter = nextCounter.add(1, ordering: .relaxed).oldValue
        LineSignature.appendFields(keyID: key.id, counter: counter, to: &line)
        let code = line.withUnsafeBytes { key.code(for: $0) }
        LineSignature.appendCode(code, to: &line)
        if newline { line.append(UInt8(ascii: "\n")) }
    }
}
