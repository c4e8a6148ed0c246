import Foundation
import RigSupport
import Testing
@testable import jamplay

/// `JAMPLAY_<OPTION>` variables (systemd's `EnvironmentFile`) set the play command's options.
@Suite struct EnvironmentVariableTests {
    @Test func variablesBecomeOptionsAndTheCommandLineWins() {
        let environment = ["JAMPLAY_PERIOD_FRAMES": "128", "JAMPLAY_UDP": "no", "JAMPLAY_TCP": "yes", "JAMPLAY_DEVICE": "hw:0",
                           "JAMPLAY_LATENCY": "", "JAMPLAY_UNKNOWN": "1", "JAMPLAY_OUTPUT_OFFSET": "-2ms"]
        let (arguments, used) = EnvironmentArguments.merged(["--device", "null"], environment: environment)
        #expect(arguments == ["--device", "null", "--period-frames=128", "--output-offset=-2ms", "--tcp", "--no-udp"])
        #expect(used == ["JAMPLAY_PERIOD_FRAMES=128", "JAMPLAY_OUTPUT_OFFSET=-2ms", "JAMPLAY_TCP=yes", "JAMPLAY_UDP=no"])
        #expect(!EnvironmentArguments.merged(["play", "--device=null"], environment: environment).arguments.contains("hw:0"))
        // The other subcommands take none of them.
        #expect(EnvironmentArguments.merged(["lint", "x.jsonl"], environment: environment).arguments == ["lint", "x.jsonl"])
    }

    @Test func everyOptionOfThePlayCommandHasAVariable() throws {
        let help = try JamplayRun.run(["play", "--help"]).standardOutput
        // `--tcp/--no-tcp` is one flag.
        let regex = try NSRegularExpression(pattern: "--(?:no-)?([a-z][a-z-]*)")
        let names = Set(regex.matches(in: help, range: NSRange(help.startIndex..., in: help)).compactMap { Range($0.range(at: 1), in: help).map { String(help[$0]) } })
        let covered = Set(EnvironmentArguments.options + EnvironmentArguments.flags + ["help", "version"])
        #expect(names.subtracting(covered).isEmpty, "options without a JAMPLAY_ variable: \(names.subtracting(covered).sorted())")
        #expect(covered.subtracting(names).isEmpty, "variables for options that do not exist: \(covered.subtracting(names).sorted())")
    }

    @Test func aBadValueFromTheEnvironmentIsAnErrorThatNamesTheVariable() throws {
        let outcome = try JamplayRun.run(["--device", "null"], environment: ["JAMPLAY_LATENCY": "soon"])
        #expect(outcome.status == 64)
        #expect(outcome.standardError.contains("JAMPLAY_LATENCY=soon"))
        #expect(outcome.standardError.contains("--latency soon: expected a duration"))
    }

    @Test func thePlayerStartsWithItsSettingsFromTheEnvironment() async throws {
        let player = try await JamplayProcess(["--device", "null"],
                                              environment: ["JAMPLAY_DEVICE": "no-such-device", "JAMPLAY_LATENCY": "35ms", "JAMPLAY_RT_PRIORITY": "0"])
        #expect(player.log.contains("latency 35"), "\(player.log)")
        #expect(player.log.contains("null"), "\(player.log)")
        #expect(!player.log.contains("no-such-device"))
        #expect(player.terminate().status == 0)
    }
}
