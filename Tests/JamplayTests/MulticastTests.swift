import Foundation
import TestSupport
import Testing

/// `--listen 239.x.y.z:PORT`: the player joins the group and plays what is sent to it. Loopback
/// carries no multicast by default, so the test runs both ends in a network namespace of their own
/// (`unshare -n`, root) with multicast switched on for `lo` and 224.0.0.0/4 routed through it.
@Suite struct MulticastTests {
    /// Why a network namespace with multicast on loopback cannot be made here, or nil.
    static let missing: String? = {
        let probe = try? Self.shell("ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo")
        return probe?.status == 0 ? nil : "cannot make a network namespace with multicast on lo (unshare -n needs root): \(probe?.output ?? "no unshare")"
    }()

    /// Runs `script` with `sh` in a fresh network namespace.
    static func shell(_ script: String) throws -> (status: Int32, output: String) {
        try JamplayRun.runProgram("/usr/bin/unshare", ["-n", "sh", "-c", script])
    }

    @Test(.enabled(if: missing == nil, "\(missing ?? "")"))
    func aStreamSentToAMulticastGroupIsPlayed() throws {
        let (jamplay, jamsend) = (try builtExecutable(named: "jamplay"), try builtExecutable(named: "jamsend"))
        let result = try Self.shell("""
            ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo || exit 9
            \(jamplay) --listen 239.7.7.7:9000 --multicast-interface lo --device null --rt-priority 0 --http off 2>&1 &
            player=$!
            sleep 1
            \(jamsend) --clock cpu --udp --to 239.7.7.7:9000 --signal sine --duration 1s --session group >/dev/null 2>&1
            sleep 0.3
            kill -TERM $player
            wait $player
            """)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("listening on 239.7.7.7:9000 (TCP off, UDP 9000)"), "\(result.output)")
        #expect(result.output.contains("session \"group\" from udp "), "the stream sent to the group was not received: \(result.output)")
        #expect(result.output.contains("stopped: ") && result.output.contains(" 0 rejected lines"), "\(result.output)")
    }

    @Test(.enabled(if: missing == nil, "\(missing ?? "")"))
    func anInterfaceThatDoesNotExistIsAStartUpError() throws {
        let jamplay = try builtExecutable(named: "jamplay")
        let result = try Self.shell("""
            ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo || exit 9
            \(jamplay) --listen 239.7.7.7:9000 --multicast-interface eth9 --device null --rt-priority 0 --http off 2>&1
            """)
        #expect(result.status == 1)
        #expect(result.output.contains("--multicast-interface eth9: no such interface"), "\(result.output)")
    }
}
