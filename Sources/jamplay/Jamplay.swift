import ArgumentParser

/// The `jamplay` command: a headless network audio player, and its tools.
@main
struct Jamplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jamplay",
        abstract: "Headless network audio player for jamnet/1.x streams.",
        discussion: """
            Playback (jamplay --listen :9000) arrives with the network ingest and ALSA playback \
            work; this build has the protocol tools.

            Examples:
              jamplay lint capture.jsonl        check a sender's capture, line by line
              jamplay lint --quiet - < capture.jsonl
            """,
        version: "0.1.0",
        subcommands: [LintCommand.self]
    )
}
