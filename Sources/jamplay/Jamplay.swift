import ArgumentParser
import Foundation

/// The `jamplay` command: a headless network audio player, and its tools.
struct Jamplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jamplay",
        abstract: "Headless network audio player for jamnet/1.x streams.",
        discussion: """
            Examples:
              jamplay --listen :9000                    play what senders send, on ALSA "default", as
                                                        soon after capture as their frames allow
              jamplay --listen :9000 --latency 40ms     every sample 40 ms after its capture: boxes
                                                        that must play in step use one fixed latency
              jamplay --listen :9000 --device hw:CARD=PCH,DEV=0 --period-frames 64 --latency 12ms
                                                        a card with short periods: live senders of
                                                        5 ms frames heard 12 ms after capture
              jamplay devices                           list the ALSA playback devices
              jamplay lint capture.jsonl                check a sender's capture, line by line

            Every option of the play command can also be set by an environment variable
            JAMPLAY_<OPTION> (for systemd's EnvironmentFile, /etc/default/jamplay): JAMPLAY_LISTEN=:9000,
            JAMPLAY_PERIOD_FRAMES=128, JAMPLAY_UDP=no. An option on the command line wins.
            """,
        version: "0.1.0",
        subcommands: [PlayCommand.self, DevicesCommand.self, LintCommand.self],
        defaultSubcommand: PlayCommand.self
    )

    /// Parses the command line with the `JAMPLAY_*` variables added, and runs the command.
    static func runCommandLine() async {
        let (arguments, used) = EnvironmentArguments.merged(Array(CommandLine.arguments.dropFirst()),
                                                            environment: ProcessInfo.processInfo.environment)
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if !used.isEmpty && exitCode(for: error) != .success && !(error is ExitCode) {
                // The message names the option; say where its value came from.
                FileHandle.standardError.write(Data("jamplay: settings from the environment: \(used.joined(separator: " "))\n".utf8))
            }
            exit(withError: error)
        }
    }
}
