import ArgumentParser
import Authentication
import Core
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// `jamplay lint`: classifies every line of a JSON Lines capture as a receiver would.
struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check a jamnet JSON Lines capture: one report per line that is not ok, then a summary.",
        discussion: """
            Prints "line N: CLASS: detail" for each line that is not ok, then one summary line with \
            the count of every class (ok, json-error, not-a-message, unsupported-version, \
            invalid-field, unknown-type, line-too-long). With --keys, every line's code is checked \
            first, as a player with those keys checks it: a line that is not authentic is reported \
            by its reason (unauthenticated, bad-mac, unknown-key, replayed) and counted apart. \
            Exit status: 0 when every line is ok, 1 when any is not, 2 when the capture or the \
            keys cannot be read.

            Examples:
              jamplay lint capture.jsonl
              jamplay lint --quiet - < capture.jsonl
              jamplay lint --keys /etc/jamplay/keys signed.jsonl
            """
    )

    @Argument(help: "The capture to check; - reads standard input.")
    var file: String = "-"

    @Flag(name: .shortAndLong, help: "Print only the summary line.")
    var quiet = false

    @Option(name: .customLong("max-line-bytes"), help: "Longest line accepted (e.g. 1MiB, 4096; the receiver's default).")
    var maxLineBytes = "1MiB"

    @Option(help: "Check every line's code against the keys in FILE (the player's --keys format).")
    var keys: String?

    func validate() throws {
        guard let limit = ByteCount(size: maxLineBytes), limit.rawValue > 0 else {
            throw ValidationError("--max-line-bytes \(maxLineBytes): expected a size such as 1MiB, 64KiB or 4096")
        }
    }

    func run() throws {
        let descriptor: Int32 = file == "-" ? STDIN_FILENO : open(file, O_RDONLY)
        guard descriptor >= 0 else {
            printError("jamplay lint: cannot open \(file): \(SystemError.current)")
            throw ExitCode(2)
        }
        defer { if descriptor != STDIN_FILENO { close(descriptor) } }

        var authenticator: CaptureLinter.Authenticator?
        if let keys {
            do {
                authenticator = Self.authenticator(KeyRing(try KeyFile.load(keys)))
            } catch {
                printError("jamplay lint: --keys \(error)")
                throw ExitCode(2)
            }
        }
        var linter = CaptureLinter(limit: ByteCount(size: maxLineBytes) ?? .mebibytes(1), authenticator: authenticator)
        let report: (CaptureLinter.Finding) -> Void = { finding in if !quiet { print(finding) } }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
        defer { chunk.deallocate() }
        while true {
            let count = read(descriptor, chunk.baseAddress, chunk.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                printError("jamplay lint: cannot read \(file): \(SystemError.current)")
                throw ExitCode(2)
            }
            if count == 0 { break }
            linter.feed(UnsafeRawBufferPointer(rebasing: chunk[..<count]), report: report)
        }
        linter.finish(report: report)
        print(linter.summary)
        if !linter.allLinesOK { throw ExitCode(1) }
    }

    /// Checks each line as a player with `keys` does: its code, then its counter against the
    /// lines of its session (key and `session_id`) before it.
    private static func authenticator(_ keys: KeyRing) -> CaptureLinter.Authenticator {
        var windows: [String: ReplayWindow] = [:]
        return { line, signature, decoded in
            switch keys.authenticate(line, signature) {
            case .failure(let reason):
                return (reason.rawValue, reason.description)
            case .success(let signed):
                let session = "\(signed.keyID) \(decoded.sessionID ?? "")"
                guard windows[session, default: ReplayWindow()].accept(signed.counter) else {
                    return (AuthenticationFailure.replayed.rawValue, AuthenticationFailure.replayed.description)
                }
                return nil
            }
        }
    }

    private func printError(_ message: String) {
        StandardError.write(message + "\n")
    }
}
