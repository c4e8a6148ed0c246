import Foundation

/// Starts the built `jamsend` (it sits beside the test runner, one or two levels up).
enum JamsendRunner {
    static func start(_ arguments: [String]) throws -> Process {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var executable: URL?
        for _ in 0..<3 where executable == nil {
            let candidate = directory.appendingPathComponent("jamsend")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { executable = candidate }
            directory.deleteLastPathComponent()
        }
        let process = Process()
        process.executableURL = try executable ?? { throw CocoaError(.fileNoSuchFile) }()
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}
