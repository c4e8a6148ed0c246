#if canImport(Glibc)
import Glibc
#endif

/// A failed system call's `errno`, in the C library's words: the one place that turns one into text.
public struct SystemError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The `errno` value.
    public let code: Int32

    /// The error of `code`.
    public init(code: Int32) { self.code = code }

    /// The error `errno` holds now: read it straight after the call that failed.
    public static var current: SystemError { SystemError(code: errno) }

    /// `"No such file or directory"`.
    public var description: String { String(cString: strerror(code)) }
}
