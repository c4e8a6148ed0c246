import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A flood of lines that are not authentic, over UDP: unsigned frames, frames under the stream's
/// key id with a made-up code, frames under a key the player does not have, and a code moved
/// from the line's end — each aimed at the signed stream's session (`jamsend`, stream `main`).
enum ForgedTraffic {
    static let code = String(repeating: "0f", count: 32)
    static let frame = #"{"type":"jdat","version":"jamnet/1.2","timestamp_cpu":1,"session_id":"jamsend","stream_id":"main","seq":0,"sample_rate":48000,"channels":2,"payload":[1,1,1,1]"#
    static let lines: [[UInt8]] = [
        Array((frame + "}\n").utf8),
        Array((frame + #","key_id":"stage","auth_counter":99999999,"mac":"\#(code)"}"# + "\n").utf8),
        Array((frame + #","key_id":"other","auth_counter":1,"mac":"\#(code)"}"# + "\n").utf8),
        Array((frame + #","mac":"\#(code)","key_id":"stage","auth_counter":100000000}"# + "\n").utf8),
    ]

    /// Sends the lines round-robin, one a datagram, for `seconds` (about 20 000 a second) and
    /// returns how many were sent.
    static func send(to port: Int, for seconds: Double) -> Int {
        let end = Date().addingTimeInterval(seconds)
        let udp = LoopbackSockets.udpSocket()
        defer { close(udp) }
        var sent = 0
        while Date() < end {
            for index in 0..<200 { LoopbackSockets.sendDatagram(port: port, lines[index % lines.count], from: udp) }
            sent += 200
            usleep(10_000)
        }
        return sent
    }
}
