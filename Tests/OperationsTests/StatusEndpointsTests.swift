import Core
import Foundation
import Ingest
import Logging
import Operations
import Receiver
import Testing

/// `/metrics` and `/status` of a running player (on ALSA's `null` device), taken in process.
@Suite struct StatusEndpointsTests {
    @Test func anIdlePlayersPagesShowItsDeviceLatencyAndCounters() async throws {
        var configuration = ReceiverConfiguration(listen: try ListenAddress(parsing: "127.0.0.1:0"))
        configuration.playback.device.name = "null"
        configuration.playback.realtimePriority = 0
        configuration.playback.lockMemory = false  // this test process runs many other suites
        let receiver = Receiver(configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        try await receiver.start()
        let respond = StatusEndpoints.responder(for: receiver, version: "9.9.9-test", started: SystemMonotonicClock().now())

        let metrics = String(decoding: await respond("/metrics").body, as: UTF8.self)
        #expect(metrics.contains("jamplay_playback_fill_nanoseconds"), "\(metrics.prefix(2_000))")
        let status = await respond("/status")
        #expect(status.contentType == "application/json")
        let page = try #require(try JSONSerialization.jsonObject(with: Data(status.body)) as? [String: Any])
        #expect(page["version"] as? String == "9.9.9-test")
        let device = try #require(page["device"] as? [String: Any])
        #expect(device["name"] as? String == "null" && device["paces_writes"] as? Bool == false)
        #expect((page["sessions"] as? [Any])?.isEmpty == true)
        #expect(await respond("/nothing").status.code == 404)
        try await receiver.stop()
    }
}
