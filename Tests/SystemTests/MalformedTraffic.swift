import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A storm of bad input for a receiver: broken JSON, unsupported versions, frames with bad
/// fields, binary noise and an overlong line, over TCP and UDP.
enum MalformedTraffic {
    static let lines: [[UInt8]] = [
        Array("not json at all\n".utf8),
        Array(#"{"type":"jdat","version":"jamnet/9.0","timestamp_gpu":1,"session_id":"x","stream_id":"y","seq":0,"sample_rate":48000,"channels":2,"payload":[0,0]}"#.utf8) + [10],
        Array(#"{"type":"jdat","version":"jamnet/1.0","timestamp_gpu":1,"session_id":"x","seq":0,"sample_rate":-5,"channels":0,"payload":["a"]}"#.utf8) + [10],
        Array(#"{"type":"sync_calibration_block","version":"jamnet/1.0","timestamp_cpu":"soon"}"#.utf8) + [10],
        Array(#"{"type":"jdat","version":"jamnet/1.0","payload":[0.1,0.2,"#.utf8) + [10],
        [0xFF, 0xFE, 0x00, 0xC3, 0x28, 0x7B, 0x22, 10],
    ]

    /// Sends the lines round-robin for `seconds` (about 20 000 a second) and returns how many were sent.
    static func send(to port: Int, for seconds: Double) -> Int {
        let end = Date().addingTimeInterval(seconds)
        let udp = LoopbackSockets.udpSocket()
        defer { close(udp) }
        var sent = 0
        var round = 0
        while Date() < end {
            let tcp = LoopbackSockets.connectTCP(port: port)
            var batch: [UInt8] = []
            for index in 0..<100 { batch += lines[(round + index) % lines.count] }
            // Once in a while a line over the 1 MiB limit.
            if round % 50 == 0 { batch += [UInt8](repeating: UInt8(ascii: "x"), count: 1_100_000) + [10] }
            LoopbackSockets.sendAll(tcp, batch)
            close(tcp)
            for index in 0..<100 { LoopbackSockets.sendDatagram(port: port, lines[(round + index) % lines.count], from: udp) }
            sent += 200
            round += 1
            usleep(10_000)
        }
        return sent
    }
}
