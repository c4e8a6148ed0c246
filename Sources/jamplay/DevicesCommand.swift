import ArgumentParser
import Playback
import Realtime

/// `jamplay devices`: the ALSA playback devices, so a user can pick a stable name.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List ALSA playback devices (names for --device) with their descriptions.",
        discussion: "Prefer a name that survives reboots and replugging, such as hw:CARD=PCH,DEV=0, over hw:0."
    )

    func run() throws {
        let hints = AlsaPCM.playbackDeviceHints()
        if !AlsaPCM.hasSoundCard { print("(ALSA sees no sound card on this machine; \"null\" discards what it is given)") }
        for hint in hints {
            print(hint.name)
            if !hint.description.isEmpty { print("    \(hint.description)") }
        }
    }
}
