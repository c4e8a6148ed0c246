import Foundation
import TestSupport

/// Starts the built `jamsend`.
public enum JamsendRunner {
    /// Starts `jamsend` with `arguments`, its output written to `log` (a file it creates) or discarded.
    public static func start(_ arguments: [String], log: URL? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtExecutable(named: "jamsend"))
        process.arguments = arguments
        var output = FileHandle.nullDevice
        if let log {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            output = try FileHandle(forWritingTo: log)
        }
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return process
    }
}
