import Crypto
import Wire

/// One pre-shared key: its id on the wire (`key_id`) and its secret (at least 32 bytes).
public struct AuthenticationKey: Sendable {
    /// Secrets shorter than this are refused: HMAC-SHA-256's full strength needs 32 bytes.
    public static let minimumSecretBytes = 32
    /// And longer than this (HMAC hashes a long key first; nobody needs more).
    public static let maximumSecretBytes = 1_024

    /// Why a key was refused.
    public struct InvalidKey: Error, CustomStringConvertible {
        public let description: String
    }

    /// `key_id`.
    public let id: String
    /// The code's state after the key: each line's code starts from a copy of it (deriving the
    /// padded keys anew for every line cost as much as hashing a frame's line).
    private let keyed: HMAC<SHA256>

    /// Makes a key, checking the id's form and the secret's length.
    public init(id: String, secret: [UInt8]) throws(InvalidKey) {
        guard LineSignature.isValidKeyID(id.utf8) else {
            throw InvalidKey(description: "key id \"\(id)\": expected 1 to \(LineSignature.keyIDLimit) of A-Z a-z 0-9 . _ -")
        }
        guard (Self.minimumSecretBytes...Self.maximumSecretBytes).contains(secret.count) else {
            throw InvalidKey(description: "key \(id): the secret has \(secret.count) bytes; \(Self.minimumSecretBytes) to \(Self.maximumSecretBytes) are needed")
        }
        self.id = id
        keyed = HMAC<SHA256>(key: SymmetricKey(data: secret))
    }

    /// HMAC-SHA-256 of `bytes` under this key.
    public func code(for bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var code = keyed
        code.update(data: bytes)
        return Array(code.finalize())
    }

    /// Whether `code` is the HMAC-SHA-256 of `bytes` under this key (compared in constant time).
    public func isValid(_ code: UnsafeRawBufferPointer, for bytes: UnsafeRawBufferPointer) -> Bool {
        var computed = keyed
        computed.update(data: bytes)
        return computed.finalize() == code
    }
}
