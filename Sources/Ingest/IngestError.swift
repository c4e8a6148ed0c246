/// A listener that cannot be set up as asked (not a socket error: those come from SwiftNIO).
public struct IngestError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String

    /// Makes the error with the line a person reads.
    public init(_ description: String) {
        self.description = description
    }
}
