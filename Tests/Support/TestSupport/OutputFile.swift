import Foundation

/// A temporary file a child process writes its output to, read back as text while it runs.
///
/// A file rather than a pipe: nothing in the test process has to keep reading it — neither
/// Foundation's `readabilityHandler`, whose dispatch source can crash the test process after end
/// of file (`_dispatch_event_loop_drain`, swift-corelibs-foundation #5507), nor a thread of its
/// own per child, whose start in the test process, which hosts a real-time JACK client, was seen
/// to disturb the rig. The file is removed when this is released.
public final class OutputFile: Sendable {
    /// Where it is.
    public let path: String
    /// The handle to give the process (`standardError` or `standardOutput`).
    public let handle: FileHandle

    /// Makes an empty file named after `name`.
    public init(_ name: String) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).log").path
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    deinit {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Everything written so far.
    public var text: String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}
