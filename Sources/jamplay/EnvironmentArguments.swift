/// `JAMPLAY_<FLAG>` environment variables as command-line arguments, for systemd's
/// `EnvironmentFile`: `JAMPLAY_PERIOD_FRAMES=128` is `--period-frames 128`,
/// `JAMPLAY_UDP=no` is `--no-udp`. An argument on the command line wins over its variable.
struct EnvironmentArguments {
    /// The play command's options that take a value, by long name.
    static let options = ["listen", "device", "rate", "channels", "period-frames", "periods", "fill", "latency", "output-offset", "max-latency", "rt-priority", "conceal", "record", "multicast-interface", "max-connections", "max-line-bytes",
                          "max-sessions", "max-streams", "max-buffer", "session-timeout", "idle-timeout", "allow", "keys", "http", "log-level", "log-format",
                          "stats-interval", "trace-timing"]
    /// The play command's on/off flags (`--NAME` / `--no-NAME`), by long name.
    static let flags = ["tcp", "udp"]

    /// The environment variable of option or flag `name`.
    static func variable(for name: String) -> String {
        "JAMPLAY_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// The arguments with the variables set in `environment` added (for the play command only),
    /// and the `NAME=value` of each variable used.
    static func merged(_ arguments: [String], environment: [String: String]) -> (arguments: [String], used: [String]) {
        // Another subcommand (`devices`, `lint`) takes none of them.
        if let first = arguments.first, !first.hasPrefix("-"), first != "play" { return (arguments, []) }
        func given(_ name: String) -> Bool {
            arguments.contains { $0 == "--\(name)" || $0 == "--no-\(name)" || $0.hasPrefix("--\(name)=") }
        }
        var extra: [String] = [], used: [String] = []
        for name in options + flags {
            let variable = variable(for: name)
            guard let value = environment[variable], !value.isEmpty, !given(name) else { continue }
            used.append("\(variable)=\(value)")
            // One argument, so that a negative value (JAMPLAY_OUTPUT_OFFSET=-2ms) is not read as an option.
            guard flags.contains(name) else {
                extra.append("--\(name)=\(value)")
                continue
            }
            switch value.lowercased() {
            case "1", "yes", "true", "on": extra.append("--\(name)")
            case "0", "no", "false", "off": extra.append("--no-\(name)")
            default: extra.append("--\(name)=\(value)")  // the parser rejects it, naming the flag
            }
        }
        return (arguments + extra, used)
    }
}
