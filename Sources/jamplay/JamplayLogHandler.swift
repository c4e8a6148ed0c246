import Core
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// jamplay's log lines on standard error, as text or JSON (`--log-format`). Text starts with
/// the UTC time and the level; under systemd (stderr is the journal) the time is left to the
/// journal and the level becomes a syslog priority prefix (`<4>`), which journald reads.
/// The metadata key `component` (`jamplay`, `playback`, `ingest`) names who speaks.
///
/// Thread: any; each line is one `write(2)`, so lines from several threads do not interleave.
struct JamplayLogHandler: LogHandler {
    /// `--log-format`.
    enum Format: String, CaseIterable, Sendable {
        case text, json
    }

    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let format: Format
    /// Standard error is the systemd journal (`JOURNAL_STREAM` names it).
    let toJournal: Bool

    init(level: Logger.Level, format: Format, toJournal: Bool) {
        logLevel = level
        self.format = format
        self.toJournal = toJournal
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let (level, message) = (event.level, event.message)
        var all = metadata.merging(event.metadata ?? [:]) { $1 }
        if let error = event.error { all["error"] = "\(error)" }
        let component = all.removeValue(forKey: "component").map { "\($0)" } ?? "jamplay"
        let text: String
        switch format {
        case .text:
            let extra = all.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
            text = toJournal ? "<\(Self.syslogPriority(level))>\(component): \(message)\(extra)"
                             : "\(Self.timestamp()) \(level) \(component): \(message)\(extra)"
        case .json:
            var object = all.mapValues { "\($0)" }
            object["time"] = Self.timestamp()
            object["level"] = level.rawValue
            object["component"] = component
            object["message"] = "\(message)"
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            text = String(decoding: data, as: UTF8.self)
        }
        StandardError.write(text + "\n")
    }

    /// The syslog priority of a level (journald's `<N>` prefix).
    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// Now, UTC, ISO 8601 with milliseconds.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, now.tv_nsec / 1_000_000)
    }
}
