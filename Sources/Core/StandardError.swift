#if canImport(Glibc)
import Glibc
#endif

/// The process's standard error, written a line at a time.
public enum StandardError {
    /// Writes `text` with one `write(2)`, so that lines from several threads do not interleave.
    public static func write(_ text: String) {
        var text = text
        text.withUTF8 { _ = Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
