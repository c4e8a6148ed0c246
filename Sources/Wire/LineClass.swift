/// The one class every received line gets: what ingest counts and `jamplay lint` reports.
public enum LineClass: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// A valid message of a known type.
    case ok
    /// Not RFC 8259 JSON.
    case jsonError = "json-error"
    /// Valid JSON that is not an object with a string `type`.
    case notAMessage = "not-a-message"
    /// A `version` whose major this receiver does not speak.
    case unsupportedVersion = "unsupported-version"
    /// A known field with a bad value (or a required one missing).
    case invalidField = "invalid-field"
    /// A message type this receiver does not know (ignored; newer senders stay compatible).
    case unknownType = "unknown-type"
    /// A line over the length limit, discarded unread by the framer.
    case lineTooLong = "line-too-long"

    /// The wire spelling, e.g. `json-error`.
    public var description: String { rawValue }
}
