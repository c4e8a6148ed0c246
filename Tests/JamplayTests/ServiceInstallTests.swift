import Foundation
import RigSupport
import TestSupport
import Testing
@testable import jamplay

/// The headless box's files: `make install` puts the binary, the systemd unit and the settings
/// file in place; the unit passes `systemd-analyze verify`; the settings file's options exist.
@Suite struct ServiceInstallTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let analyzer = "/usr/bin/systemd-analyze"

    /// The settings file's `#JAMPLAY_X=value` lines.
    static func defaults() throws -> [(name: String, value: String)] {
        let text = try String(contentsOfFile: packageRoot + "/Resources/jamplay.default", encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("#JAMPLAY_"), let equals = line.firstIndex(of: "=") else { return nil }
            return (String(line[line.index(after: line.startIndex)..<equals]), String(line[line.index(after: equals)...]))
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyzer), "systemd-analyze is missing; make test installs systemd"))
    func theInstalledUnitPassesSystemdAnalyzeVerify() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("jamplay-install-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let binaries = URL(fileURLWithPath: try builtExecutable(named: "jamplay")).deletingLastPathComponent().path
        let install = try JamplayRun.runProgram("/usr/bin/make", ["-s", "-C", Self.packageRoot, "install-files", "PREFIX=\(root)/usr", "UNIT_DIR=\(root)/unit",
                                                     "DEFAULTS_DIR=\(root)/default", "BIN_DIR=\(binaries)"])
        #expect(install.status == 0, "\(install.output)")
        for file in ["usr/bin/jamplay", "unit/jamplay.service", "default/jamplay", "usr/share/doc/jamplay/README.md"] {
            #expect(FileManager.default.fileExists(atPath: "\(root)/\(file)"), "make install did not install \(file)")
        }
        let unit = try String(contentsOfFile: "\(root)/unit/jamplay.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=\(root)/usr/bin/jamplay\n") && unit.contains("EnvironmentFile=-\(root)/default/jamplay\n"))
        let verify = try JamplayRun.runProgram(Self.analyzer, ["verify", "\(root)/unit/jamplay.service"])
        #expect(verify.status == 0, "systemd-analyze verify: \(verify.output)")
        // A settings file the user edited is kept.
        try "JAMPLAY_LATENCY=40ms\n".write(toFile: "\(root)/default/jamplay", atomically: true, encoding: .utf8)
        _ = try JamplayRun.runProgram("/usr/bin/make", ["-s", "-C", Self.packageRoot, "install-files", "PREFIX=\(root)/usr", "UNIT_DIR=\(root)/unit",
                                           "DEFAULTS_DIR=\(root)/default", "BIN_DIR=\(binaries)"])
        #expect(try String(contentsOfFile: "\(root)/default/jamplay", encoding: .utf8) == "JAMPLAY_LATENCY=40ms\n")
    }

    @Test func everySettingInTheDefaultsFileIsAnOptionAndItsDefaultStarts() async throws {
        let settings = try Self.defaults()
        let known = Set((EnvironmentArguments.options + EnvironmentArguments.flags).map(EnvironmentArguments.variable(for:)))
        #expect(settings.count >= 10)
        #expect(settings.allSatisfy { known.contains($0.name) }, "\(settings.map(\.name).filter { !known.contains($0) })")
        // The file's values, uncommented, start the player (the device and port given on the command line win).
        let environment = Dictionary(settings.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }).merging(["JAMPLAY_RT_PRIORITY": "0"]) { $1 }
        let player = try await JamplayProcess(["--device", "null"], environment: environment)
        #expect(player.terminate().status == 0, "\(player.log)")
    }
}
