import Foundation
import Testing

/// What the playback thread runs imports nothing that allocates, locks or logs behind its back:
/// the Realtime module and the modules it builds on (Core, Buffer) import only each other, the
/// system libraries and `Synchronization`. Foundation is importable from every target (the
/// package manager's import check does not cover toolchain modules), so this reads the sources.
@Suite struct RealtimeImportTests {
    /// The modules each real-time module may import.
    static let allowed: [String: Set<String>] = [
        "Realtime": ["Core", "Buffer", "CALSA", "CSampleRate", "Synchronization", "Glibc"],
        "Buffer": ["Core", "Synchronization", "Glibc"],
        "Core": ["Synchronization", "Glibc"],
    ]

    /// The modules a Swift source imports, whatever the attributes or access level in front.
    static func importedModules(in source: String) -> [String] {
        source.split(whereSeparator: \.isNewline).compactMap { line in
            let words = line.split(separator: " ").filter { !$0.hasPrefix("@") }
            let afterAccess = words.first.map { ["public", "package", "internal", "fileprivate", "private"].contains($0) } == true
                ? Array(words.dropFirst()) : Array(words)
            guard afterAccess.count >= 2, afterAccess[0] == "import" else { return nil }
            // `import struct Foundation.Date` and `import Foundation.NSData` name the module first.
            let target = afterAccess.count >= 3 && ["struct", "class", "enum", "protocol", "func", "var", "let", "typealias"].contains(afterAccess[1])
                ? afterAccess[2] : afterAccess[1]
            return String(target.split(separator: ".")[0])
        }
    }

    @Test func theScannerSeesEveryFormOfImport() {
        let source = "import Core\n@preconcurrency import Foundation\ninternal import Logging\nimport struct Dispatch.DispatchTime\n// import Nothing\n"
        #expect(Self.importedModules(in: source) == ["Core", "Foundation", "Logging", "Dispatch"])
    }

    @Test func realTimeModulesImportOnlyWhatTheRealTimeRulesAllow() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
        var checked = 0
        for (module, allowed) in Self.allowed {
            let directory = sources.appendingPathComponent(module)
            let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".swift") }
            #expect(!files.isEmpty, "no sources found in \(directory.path)")
            for file in files {
                let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                let forbidden = Self.importedModules(in: text).filter { !allowed.contains($0) }
                #expect(forbidden.isEmpty, "Sources/\(module)/\(file) imports \(forbidden.joined(separator: ", ")), which the real-time rules keep out of \(module) (docs/ARCHITECTURE.md)")
                checked += 1
            }
        }
        #expect(checked >= 20)
    }
}
