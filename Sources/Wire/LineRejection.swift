import Core

/// Why a line was not accepted as a message: its class and the detail a person needs.
public enum LineRejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of valid JSON that is not a message.
    public enum NotAMessageReason: Hashable, Sendable {
        case notAnObject
        case missingType
        case typeNotAString
    }

    case jsonError(JSONSyntaxError)
    case notAMessage(NotAMessageReason)
    /// The version seen; the supported ones are `jamnet/1.x`.
    case unsupportedVersion(ProtocolVersion)
    case invalidField(InvalidField)
    /// The type name seen.
    case unknownType(String)
    /// The line's length; the limit was smaller.
    case lineTooLong(ByteCount, limit: ByteCount)

    /// The class counted for this rejection.
    public var lineClass: LineClass {
        switch self {
        case .jsonError: .jsonError
        case .notAMessage: .notAMessage
        case .unsupportedVersion: .unsupportedVersion
        case .invalidField: .invalidField
        case .unknownType: .unknownType
        case .lineTooLong: .lineTooLong
        }
    }

    /// The detail, without the class name.
    public var description: String {
        switch self {
        case .jsonError(let error): "\(error)"
        case .notAMessage(.notAnObject): "the line is valid JSON but not an object"
        case .notAMessage(.missingType): "the object has no \"type\" field"
        case .notAMessage(.typeNotAString): "\"type\" is not a string"
        case .unsupportedVersion(let version):
            "\(version) is not supported (this receiver speaks jamnet/\(ProtocolVersion.supportedMajor).x)"
        case .invalidField(let field): "\(field)"
        case .unknownType(let name): "type \"\(LogText.escaped(name))\" is not known (ignored)"
        case .lineTooLong(let length, let limit): "\(length.rawValue) bytes, over the \(limit) limit (discarded)"
        }
    }
}
