import Foundation
import TestSupport
import Wire

/// Runs the built `jamsend` as a user does.
enum JamsendProcess {
    struct Outcome {
        var status: Int32
        var standardError: String
    }

    /// Starts `jamsend arguments`; standard error is collected.
    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtExecutable(named: "jamsend"))
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let error = Pipe()
        process.standardError = error
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return (process, error)
    }

    /// Runs `jamsend arguments` to the end.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        let (process, error) = try start(arguments, environment: environment)
        return finish(process, error)
    }

    static func finish(_ process: Process, _ error: Pipe) -> Outcome {
        let data = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, standardError: String(decoding: data, as: UTF8.self))
    }

    static func temporaryPath(_ suffix: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("jamsend-\(UUID().uuidString)\(suffix)").path
    }

    /// The messages of a JSON Lines file, decoded; samples of each frame alongside.
    static func decode(file path: String) throws -> [(DecodedLine, [Float])] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var decoder = JamnetDecoder()
        var samples = [Float](repeating: 0, count: 65_536)
        return text.split(separator: "\n").map { line in
            let decoded = decoder.decode(Array(line.utf8), samples: &samples)
            if case .audioFrame(_, let count, _) = decoded { return (decoded, Array(samples[0..<count])) }
            return (decoded, [])
        }
    }
}
