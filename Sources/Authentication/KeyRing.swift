import Wire

/// The keys a receiver accepts (several at once, for rotation), and the check of a line's code.
///
/// Thread: any (immutable; a reload makes a new ring).
public struct KeyRing: Sendable {
    private let keys: [String: AuthenticationKey]

    /// Makes a ring; the ids must differ.
    public init(_ keys: [AuthenticationKey]) {
        self.keys = Dictionary(keys.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The key ids, sorted.
    public var ids: [String] { keys.keys.sorted() }

    /// The key named `id`.
    public func key(_ id: String) -> AuthenticationKey? { keys[id] }

    /// What a line's signature proves: which key signed it and its counter, or why it proves nothing.
    /// `line` is the line as framed (without its line ending); `signature` what the decoder found in it.
    public func authenticate(_ line: UnsafeRawBufferPointer, _ signature: LineSignature?) -> Result<AuthenticatedLine, AuthenticationFailure> {
        guard let signature, signature.codeFieldGiven else { return .failure(.unauthenticated) }
        guard let id = signature.keyID, let key = keys[id] else { return .failure(.unknownKey) }
        guard let code = signature.code, let counter = signature.counter, let signed = signature.signedByteCount,
              signed >= 0, signed <= line.count
        else { return .failure(.badMAC) }
        let valid = code.span.withUnsafeBytes { codeBytes in
            key.isValid(codeBytes, for: UnsafeRawBufferPointer(rebasing: line[..<signed]))
        }
        return valid ? .success(AuthenticatedLine(keyID: id, counter: counter)) : .failure(.badMAC)
    }
}

/// A line whose code a key proved: who signed it and its counter (not yet checked for replay).
public struct AuthenticatedLine: Hashable, Sendable {
    /// The key that signed it.
    public var keyID: String
    /// Its `auth_counter`.
    public var counter: UInt64

    /// Makes one.
    public init(keyID: String, counter: UInt64) {
        self.keyID = keyID
        self.counter = counter
    }
}
