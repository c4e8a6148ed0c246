/// Why a line was dropped by authentication, before its session was touched (counted by reason).
public enum AuthenticationFailure: String, Error, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// No `mac` field: the line is not signed.
    case unauthenticated
    /// A `mac` that does not match the line, is malformed, or is not where it must be (the
    /// object's last member, ending the line); or `auth_counter` missing.
    case badMAC = "bad-mac"
    /// A `key_id` that is missing, malformed or not among the receiver's keys.
    case unknownKey = "unknown-key"
    /// An `auth_counter` its session has already seen, or older than its replay window.
    case replayed
    /// A new session from another host that has not yet answered its probe's challenge: its
    /// lines are dropped until it has (a recording of an old session never does).
    case unverified

    /// Why, in words.
    public var description: String {
        switch self {
        case .unauthenticated: "not signed (no mac)"
        case .badMAC: "its mac does not match the line (or is malformed, or not the line's last field)"
        case .unknownKey: "its key_id is not one of this receiver's keys"
        case .replayed: "its auth_counter was seen before or is older than the replay window"
        case .unverified: "its session has not yet answered a challenge"
        }
    }
}
