import Foundation
import RigSupport
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `jamplay --keys` as a user runs it: only signed senders play, everything else is counted by
/// reason and logged a few times a minute, and SIGHUP reloads the file.
@Suite struct KeysTests {
    static let secret = String(repeating: "5a", count: 32)
    static let spareSecret = String(repeating: "c3", count: 32)

    /// A private key file with `text`.
    static func keyFile(_ text: String, mode: Int = 0o600) throws -> String {
        let path = NSTemporaryDirectory() + "jamplay-keys-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    static func unauthenticated(_ port: Int) -> [String: Double] {
        OperationsEndpointTests.series(OperationsEndpointTests.request("/metrics", port: port).body)
            .filter { $0.key.hasPrefix("jamplay_ingest_unauthenticated_lines_total{") }
    }

    @Test func onlySignedSendersPlayTheRestIsCountedByReasonAndSighupReloadsTheKeys() async throws {
        let keys = try Self.keyFile("# the stage's senders\nstage \(Self.secret)\n")
        let spare = try Self.keyFile("spare \(Self.spareSecret)\n")
        defer { for path in [keys, spare] { try? FileManager.default.removeItem(atPath: path) } }
        let player = try await JamplayProcess(["--device", "null", "--rt-priority", "0", "--keys", keys])
        defer { _ = player.terminate() }
        let port = try OperationsEndpointTests.httpPort(of: player)
        #expect(player.log.contains("keys \(keys) (stage)"))

        let sender = try JamsendRunner.start(["--clock", "cpu", "--to", "127.0.0.1:\(player.port)", "--key", "stage:\(keys)", "--session", "kitchen",
                                              "--signal", "sine", "--duration", "120s"])
        defer { sender.terminate() }
        #expect(await eventually(within: 10) {
            OperationsEndpointTests.series(OperationsEndpointTests.request("/metrics", port: port).body)["jamplay_playback_streams_playing"] == 1
        })
        // Unsigned lines, and a sender whose key the player does not have.
        LoggingTests.sendLines(#"{"type":"jdat","timestamp_cpu":1,"payload":[0]}"#, count: 50, to: player.port)
        let stranger = try JamsendRunner.start(["--clock", "cpu", "--to", "127.0.0.1:\(player.port)", "--key", "spare:\(spare)", "--session", "porch",
                                                "--signal", "sine", "--duration", "300ms"])
        stranger.waitUntilExit()
        #expect(await eventually(within: 5) {
            let counts = Self.unauthenticated(port)
            return counts["jamplay_ingest_unauthenticated_lines_total{reason=\"unauthenticated\"}"] == 50
                && (counts["jamplay_ingest_unauthenticated_lines_total{reason=\"unknown-key\"}"] ?? 0) >= 20
        }, "\(Self.unauthenticated(port))")
        // At most a few of each reason are logged, however many came.
        #expect(player.log.components(separatedBy: "line dropped: unauthenticated").count - 1 <= 5)
        let status = try #require(try JSONSerialization.jsonObject(with: Data(OperationsEndpointTests.request("/status", port: port).body.utf8)) as? [String: Any])
        let sessions = try #require(status["sessions"] as? [[String: Any]])
        #expect(sessions.map { $0["session_id"] as? String } == ["kitchen"])
        #expect(sessions.first?["key_id"] as? String == "stage" && sessions.first?["verified"] as? Bool == true)
        #expect((status["unauthenticated_lines"] as? [String: Int])?["unauthenticated"] == 50)

        // Both keys now: SIGHUP, and the porch sender plays beside the kitchen's.
        try "stage \(Self.secret)\nspare \(Self.spareSecret)\n".write(toFile: keys, atomically: false, encoding: .utf8)
        kill(player.process.processIdentifier, SIGHUP)
        #expect(await player.waitForLog("keys reloaded from \(keys): spare, stage"))
        let porch = try JamsendRunner.start(["--clock", "cpu", "--to", "127.0.0.1:\(player.port)", "--key", "spare:\(spare)", "--session", "porch",
                                             "--signal", "sine", "--duration", "120s"])
        defer { porch.terminate() }
        #expect(await eventually(within: 10) {
            OperationsEndpointTests.series(OperationsEndpointTests.request("/metrics", port: port).body)["jamplay_playback_streams_playing"] == 2
        })
        // A file others can read is not loaded: the keys stay, and the log says why.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keys)
        kill(player.process.processIdentifier, SIGHUP)
        #expect(await player.waitForLog("keys not reloaded, the previous ones stay"))
        #expect(player.process.isRunning)
        #expect(player.terminate().status == 0)
    }

    @Test func aKeyFileOthersCanReadOrThatIsMissingStopsTheStart() throws {
        let open = try Self.keyFile("stage \(Self.secret)\n", mode: 0o644)
        defer { try? FileManager.default.removeItem(atPath: open) }
        let refused = try JamplayRun.run(["--device", "null", "--keys", open])
        #expect(refused.status == 64 && refused.standardError.contains("chmod 600 \(open)"), "\(refused.standardError)")
        let missing = try JamplayRun.run(["--device", "null", "--keys", open + ".missing"])
        #expect(missing.status == 64 && missing.standardError.contains("No such file"), "\(missing.standardError)")
    }
}
