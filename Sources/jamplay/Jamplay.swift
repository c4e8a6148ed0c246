import ArgumentParser

/// The `jamplay` command: a headless network audio player, and its tools.
@main
struct Jamplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jamplay",
        abstract: "Headless network audio player for jamnet/1.x streams.",
        discussion: """
            Examples:
              jamplay --listen :9000                    play what senders send, on ALSA "default"
              jamplay --listen :9000 --device hw:CARD=PCH,DEV=0 --latency 10ms
              jamplay devices                           list the ALSA playback devices
              jamplay lint capture.jsonl                check a sender's capture, line by line
            """,
        version: "0.1.0",
        subcommands: [PlayCommand.self, DevicesCommand.self, LintCommand.self],
        defaultSubcommand: PlayCommand.self
    )
}
