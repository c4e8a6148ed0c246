import Foundation
import RigSupport
import TestSupport
import Testing
@testable import jamplay
#if canImport(Glibc)
import Glibc
#endif

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
                                                     "DEFAULTS_DIR=\(root)/default", "CONFIG_DIR=\(root)/config", "BIN_DIR=\(binaries)"])
        #expect(install.status == 0, "\(install.output)")
        for file in ["usr/bin/jamplay", "unit/jamplay.service", "default/jamplay", "usr/share/doc/jamplay/README.md", "config/keys"] {
            #expect(FileManager.default.fileExists(atPath: "\(root)/\(file)"), "make install did not install \(file)")
        }
        let unit = try String(contentsOfFile: "\(root)/unit/jamplay.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=\(root)/usr/bin/jamplay\n") && unit.contains("EnvironmentFile=-\(root)/default/jamplay\n"))
        // The key file, private and empty, handed to the service as a credential.
        #expect(unit.contains("LoadCredential=keys:\(root)/config/keys\n"))
        let keys = try FileManager.default.attributesOfItem(atPath: "\(root)/config/keys")
        #expect((keys[.posixPermissions] as? Int) == 0o600 && (keys[.size] as? Int) == 0)
        let verify = try JamplayRun.runProgram(Self.analyzer, ["verify", "\(root)/unit/jamplay.service"])
        #expect(verify.status == 0, "systemd-analyze verify: \(verify.output)")
        // A settings file the user edited is kept.
        try "JAMPLAY_LATENCY=40ms\n".write(toFile: "\(root)/default/jamplay", atomically: true, encoding: .utf8)
        _ = try JamplayRun.runProgram("/usr/bin/make", ["-s", "-C", Self.packageRoot, "install-files", "PREFIX=\(root)/usr", "UNIT_DIR=\(root)/unit",
                                           "DEFAULTS_DIR=\(root)/default", "CONFIG_DIR=\(root)/config", "BIN_DIR=\(binaries)"])
        #expect(try String(contentsOfFile: "\(root)/default/jamplay", encoding: .utf8) == "JAMPLAY_LATENCY=40ms\n")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyzer), "systemd-analyze is missing; make test installs systemd"))
    func theUnitsExposureScoreIsAtMostThree() throws {
        let security = try JamplayRun.runProgram(Self.analyzer, ["security", "--offline=true", Self.packageRoot + "/Resources/jamplay.service"])
        let match = try #require(security.output.firstMatch(of: /Overall exposure level for jamplay\.service: (\d+\.\d)/), "\(security.output)")
        let score = try #require(Double(match.1))
        #expect(score <= 3.0, "\(security.output)")
        // What is left open is what a network daemon with real-time scheduling needs (the README says why).
        let open = Set(security.output.split(separator: "\n").filter { $0.hasPrefix("✗") }.compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) })
        let explained: Set<String> = [
            "SystemCallFilter=~@resources", "RootDirectory=/RootImage=", "SupplementaryGroups=", "PrivateDevices=", "RestrictAddressFamilies=~AF_NETLINK",
            "RestrictAddressFamilies=~AF_UNIX", "RestrictAddressFamilies=~AF_(INET|INET6)", "RestrictRealtime=", "ProcSubset=", "PrivateNetwork=",
            "PrivateUsers=", "DeviceAllow=", "IPAddressDeny=",
        ]
        #expect(open.subtracting(explained).isEmpty, "not explained in the README: \(open.subtracting(explained).sorted())")
        let readme = try String(contentsOfFile: Self.packageRoot + "/README.md", encoding: .utf8)
        let unexplained = explained.filter { !readme.contains("`\($0.split(separator: "=").first ?? "")=") }
        #expect(unexplained.isEmpty, "the README does not explain \(unexplained.sorted())")
    }

    /// The system calls `systemd-analyze` lists for `group`, its nested groups expanded.
    static func systemCalls(in group: String, of groups: [String: [String]]) -> Set<String> {
        var calls = Set<String>()
        for member in groups[group] ?? [] {
            if member.hasPrefix("@") { calls.formUnion(systemCalls(in: member, of: groups)) } else { calls.insert(member) }
        }
        return calls
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyzer) && FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"),
                   "systemd-analyze or strace is missing; make test installs systemd and strace"))
    func everySystemCallThePlayerMakesIsOneTheUnitAllows() async throws {
        let listing = try JamplayRun.runProgram(Self.analyzer, ["syscall-filter"]).output
        var groups: [String: [String]] = [:], current = ""
        for line in listing.split(separator: "\n") {
            if line.hasPrefix("@") { current = String(line); groups[current] = [] }
            else if case let item = line.trimmingCharacters(in: .whitespaces), !item.isEmpty, !item.hasPrefix("#") { groups[current, default: []].append(item) }
        }
        // The unit: @system-service less @privileged (and @default, which systemd always allows).
        let allowed = Self.systemCalls(in: "@system-service", of: groups).union(Self.systemCalls(in: "@default", of: groups))
            .subtracting(Self.systemCalls(in: "@privileged", of: groups))
        #expect(allowed.count > 100 && allowed.contains("sched_setscheduler") && !allowed.contains("setuid"))

        // The player as the service runs it, under strace: starting (real-time priority, locked
        // memory), a stream over TCP and one over UDP, both HTTP pages, and a stop.
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("jamplay-syscalls-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: trace) }
        let tracer = Process()
        tracer.executableURL = URL(fileURLWithPath: "/usr/bin/strace")
        tracer.arguments = ["-f", "-qq", "-o", trace, try builtExecutable(named: "jamplay"), "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--device", "null"]
        let log = try OutputFile("strace")
        tracer.standardError = log.handle
        tracer.standardOutput = FileHandle.nullDevice
        try tracer.run()
        #expect(await eventually(within: 30) { log.text.contains("/metrics and /status") })
        let text = log.text
        let port = try #require(text.firstMatch(of: /\(TCP (\d+)/).flatMap { Int($0.1) })
        let http = try #require(text.firstMatch(of: /http:\/\/127\.0\.0\.1:(\d+)\/metrics/).flatMap { Int($0.1) })
        for transport in ["--tcp", "--udp"] {
            let sender = try JamsendRunner.start(["--clock", "cpu", "--to", "127.0.0.1:\(port)", transport, "--signal", "sine", "--duration", "1s"])
            sender.waitUntilExit()
        }
        #expect(OperationsEndpointTests.request("/status", port: http).status == 200)
        #expect(OperationsEndpointTests.request("/metrics", port: http).status == 200)
        let player = try #require(try JamplayRun.runProgram("/usr/bin/pgrep", ["-P", String(tracer.processIdentifier)]).output
            .split(separator: "\n").first.flatMap { pid_t($0) })
        kill(player, SIGTERM)
        tracer.waitUntilExit()

        let calls = Set(try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").compactMap { line in
            line.firstMatch(of: /^\d+ +([a-z0-9_]+)\(/).map { String($0.1) }
        })
        #expect(calls.contains("sched_setscheduler") || calls.contains("sched_setparam") || calls.contains("sched_setattr"))
        #expect(calls.count > 20 && calls.subtracting(allowed).isEmpty, "system calls outside the unit's filter: \(calls.subtracting(allowed).sorted())")
        let families = Set(try String(contentsOfFile: trace, encoding: .utf8).matches(of: /socket\((AF_[A-Z0-9]+)/).map { String($0.1) })
        #expect(families.subtracting(["AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK"]).isEmpty, "\(families)")
    }

    @Test func everySettingInTheDefaultsFileIsAnOptionAndItsDefaultStarts() async throws {
        let settings = try Self.defaults()
        let known = Set((EnvironmentArguments.options + EnvironmentArguments.flags).map(EnvironmentArguments.variable(for:)))
        #expect(settings.count >= 10)
        #expect(settings.allSatisfy { known.contains($0.name) }, "\(settings.map(\.name).filter { !known.contains($0) })")
        // The file's values, uncommented, start the player (the device and port given on the command line win;
        // the keys are a file of the test's, where the service has its credential).
        let keys = try KeysTests.keyFile("stage \(KeysTests.secret)\n")
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let environment = Dictionary(settings.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
            .merging(["JAMPLAY_RT_PRIORITY": "0", "JAMPLAY_KEYS": keys]) { $1 }
        let player = try await JamplayProcess(["--device", "null"], environment: environment)
        #expect(player.terminate().status == 0, "\(player.log)")
    }
}
