import Foundation
import Testing

/// The SPIR-V inside the sender is what `glslangValidator` makes of `Resources/shaders/signal.comp`.
@Suite struct SignalShaderTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let compilerMissing: String? = {
        let found = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/glslangValidator") }
        return found ? nil : "glslangValidator is not installed (Debian: glslang-tools; CI installs it)"
    }()

    @Test(.enabled(if: compilerMissing == nil, "\(compilerMissing ?? "")"))
    func theCommittedSPIRVIsCompiledFromTheCurrentShaderSource() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("SignalShaderCode-\(UUID().uuidString).swift")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = Self.repository.appendingPathComponent("scripts/compile-shaders.sh")
        process.arguments = [output.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let fresh = try String(contentsOf: output, encoding: .utf8)
        let committed = try String(contentsOf: Self.repository.appendingPathComponent("Sources/Sender/Vulkan/SignalShaderCode.swift"), encoding: .utf8)
        #expect(fresh == committed, "Resources/shaders/signal.comp changed: run scripts/compile-shaders.sh and commit the result")
    }
}
