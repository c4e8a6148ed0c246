import Foundation
import Synchronization

/// Collects what a child process writes to a pipe, as text, while it runs.
///
/// A thread of its own reads the pipe with blocking `read(2)` until end of file. Foundation's
/// `readabilityHandler` is not used: on Linux its dispatch read source, torn down at end of file,
/// can leave a dangling epoll registration that crashes the test process later
/// (`_dispatch_event_loop_drain`, swift-corelibs-foundation #5507).
public final class PipeText: Sendable {
    /// The pipe to give the process (`standardError` or `standardOutput`).
    public let pipe = Pipe()
    private let collected = Mutex("")

    /// Starts reading; the thread ends at end of file (every writer gone).
    public init() {
        let descriptor = pipe.fileHandleForReading.fileDescriptor
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                let text = String(decoding: buffer[0..<count], as: UTF8.self)
                collected.withLock { $0 += text }
            }
        }
    }

    /// Everything read so far.
    public var text: String { collected.withLock { $0 } }
}
