import Foundation
import TestSupport

/// Starts the built `jamsend`.
public enum JamsendRunner {
    /// Starts `jamsend` with `arguments`, its output discarded.
    public static func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtExecutable(named: "jamsend"))
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}
