import Clock
import Core
import Ingest
import Testing
import Wire

/// A remote sender that answers no probes is mapped one-way, from what it stamped as it sent:
/// its calibration blocks, not its frames, whose stamps are its audio's time.
@Suite struct OneWayClockEstimateTests {
    /// The sender's clock reads 3 s ahead of ours; each line takes 1 ms to arrive.
    static let ahead: Int64 = 3_000_000_000, path: Int64 = 1_000_000

    /// What the table maps sender time `senderTime` to after 3 s of a sender whose frames are
    /// stamped `lead` ahead of when they are sent (negative: after); nil when no block is sent.
    static func mapping(lead: Int64, blocks: Bool = true) throws -> HostClockMapping {
        let table = SessionTable(isSameHost: { _ in false })
        let source = SourceKey(transport: .udp, address: "192.0.2.7", port: 50_000)
        let start: Int64 = 1_000_000_000_000
        for step in 0..<300 {
            let sentLocal = start + Int64(step) * 10_000_000
            let sentSender = sentLocal + ahead
            var line: [UInt8] = []
            if blocks && step % 100 == 0 {
                try JamnetEncoder().encode(SyncCalibrationBlock(timestampCPU: sentSender, timestampGPU: sentSender, sessionID: "s"), into: &line)
                line.withUnsafeBytes { table.receive($0, from: source, at: Nanoseconds(sentLocal + path)) }
                line.removeAll()
            }
            let header = AudioFrameHeader(timestamp: .cpu(sentSender + lead), sessionID: "s", streamID: "main", sequence: UInt64(step),
                                          channelCount: ChannelCount(1))
            try JamnetEncoder().encode(header, samples: [Float](repeating: 0.1, count: 480), into: &line)
            line.withUnsafeBytes { table.receive($0, from: source, at: Nanoseconds(sentLocal + path)) }
        }
        return try #require(table.session(source, "s")).host
    }

    @Test(arguments: [20_000_000, -10_000_000, 0] as [Int64])
    func framesSentAheadOrBehindTheirStampsDoNotMoveTheMapping(lead: Int64) throws {
        let host = try Self.mapping(lead: lead)
        #expect(host.status.mode == .oneWay)
        // Sender time t maps to t − 3 s + the path delay (the unknown part a one-way estimate keeps).
        let mapped = try #require(host.localTime(forSenderTime: Nanoseconds(2_000_000_000_000)))
        #expect(abs(mapped.rawValue - (2_000_000_000_000 - Self.ahead + Self.path)) < 100_000, "lead \(lead): off by \(mapped.rawValue - (2_000_000_000_000 - Self.ahead + Self.path)) ns")
    }

    @Test func aSenderWithoutBlocksIsMappedFromItsFrames() throws {
        let host = try Self.mapping(lead: 0, blocks: false)
        #expect(host.status.mode == .oneWay)
        let mapped = try #require(host.localTime(forSenderTime: Nanoseconds(2_000_000_000_000)))
        #expect(abs(mapped.rawValue - (2_000_000_000_000 - Self.ahead + Self.path)) < 100_000)
    }
}
