import Buffer
import Core
import Ingest
import Synchronization
import Testing
import Wire

/// Sessions, streams and counters, fed decoded lines directly (no sockets).
@Suite struct SessionTableTests {
    let source = SourceKey(transport: .udp, address: "127.0.0.1", port: 40_000)
    let remote = SourceKey(transport: .tcp, address: "192.0.2.7", port: 50_000)
    let second: Int64 = 1_000_000_000

    static func line(_ header: AudioFrameHeader, samples: [Float]) -> [UInt8] {
        var bytes: [UInt8] = []
        try! JamnetEncoder().encode(header, samples: samples, into: &bytes)
        return bytes
    }

    static func line(_ block: SyncCalibrationBlock) -> [UInt8] {
        var bytes: [UInt8] = []
        try! JamnetEncoder().encode(block, into: &bytes)
        return bytes
    }

    func send(_ table: SessionTable, _ bytes: [UInt8], from source: SourceKey? = nil, at time: Int64 = 0) {
        bytes.withUnsafeBytes { table.receive($0, from: source ?? self.source, at: Nanoseconds(time)) }
    }

    /// A 480-frame stereo frame whose samples encode its number.
    func frame(_ number: Int, session: String = "s", stream: String = "main", gpu: Bool = true, rate: Int = 48_000, channels: Int = 2) -> [UInt8] {
        let stamp = 1_000_000_000_000 + Int64(number) * 10_000_000
        let header = AudioFrameHeader(
            timestamp: gpu ? .gpu(stamp + 5_000_000) : .cpu(stamp), sessionID: session, streamID: stream, sequence: UInt64(number),
            sampleRate: SampleRate(hertz: rate), channelCount: ChannelCount(channels))
        return Self.line(header, samples: [Float](repeating: Float(number % 1000) / 1000, count: 480 * channels))
    }

    func read(_ ring: FrameRing, from index: Int64, count: Int) -> [Float] {
        var output = [Float](repeating: .nan, count: count * ring.channels)
        _ = output.withUnsafeMutableBufferPointer { ring.read(from: index, frameCount: count, into: $0) }
        return output
    }

    @Test func gpuFramesWaitForCalibrationThenLandInTheirRingInOrder() throws {
        let table = SessionTable()
        send(table, frame(0))
        #expect(table.counters.uncalibrated.value == 1)
        send(table, Self.line(SyncCalibrationBlock(timestampCPU: 1_000_000_000_000, timestampGPU: 1_000_005_000_000, sessionID: "s")))
        for number in [1, 2, 4, 3, 5] { send(table, frame(number)) }
        let stream = try #require(table.session(source, "s")?.streams["main"])
        #expect(stream.stampsOnGPU && stream.channels == ChannelCount(2))
        #expect(stream.ring.stored == 5 && table.counters.reordered.value == 1)
        // Frame 1 is the stream's first: index 0. Frames 1…5 are positions 0 … 5 × 480, in order.
        for number in 1...5 {
            #expect(read(stream.ring, from: Int64((number - 1) * 480), count: 480).allSatisfy { $0 == Float(number) / 1000 })
        }
        #expect(table.counters.sessionsActive.value == 1 && table.counters.streamsActive.value == 1)
    }

    @Test func junkIsCountedByClassAndEveryValidFrameStillArrives() throws {
        let table = SessionTable()
        let junk: [String] = ["{", "[1]", #"{"type":"jdat","version":"jamnet/9.0"}"#, #"{"type":"jdat","timestamp_cpu":1.5,"payload":[]}"#, #"{"type":"mystery"}"#]
        for number in 0..<50 {
            send(table, frame(number, gpu: false))
            send(table, Array(junk[number % junk.count].utf8))
        }
        table.receiveTooLong(from: source, length: ByteCount.mebibytes(2), at: Nanoseconds(second))
        #expect(table.session(source, "s")?.streams["main"]?.ring.stored == 50)
        for lineClass in [LineClass.jsonError, .notAMessage, .unsupportedVersion, .invalidField, .unknownType] {
            #expect(table.counters.rejected(lineClass).value == 10, "\(lineClass)")
        }
        #expect(table.counters.rejected(.lineTooLong).value == 1)
        #expect(table.counters.udp.messages.value == 101)
    }

    @Test func aNewSessionIDFromTheSameSourceIsARestart() {
        let table = SessionTable()
        send(table, frame(0, session: "first", gpu: false))
        send(table, frame(1, session: "second", gpu: false))
        #expect(table.session(source, "first")?.isEnding == true)
        #expect(table.session(source, "second")?.isEnding == false)
        #expect(table.counters.sessionsActive.value == 2)
    }

    @Test func aSilentSessionExpiresAndFreesItsStreams() {
        let table = SessionTable()
        send(table, frame(0, gpu: false), at: 0)
        send(table, frame(0, session: "other", stream: "x", gpu: false), from: remote, at: 4 * second)
        table.expire(now: Nanoseconds(6 * second))
        #expect(table.session(source, "s") == nil && table.session(remote, "other") != nil)
        #expect(table.counters.sessionsActive.value == 1 && table.counters.streamsActive.value == 1)
    }

    @Test func aChangeOfFormatStartsANewStreamButNotTwiceInASecond() throws {
        let table = SessionTable()
        send(table, frame(0, gpu: false))
        send(table, frame(1, gpu: false, channels: 1), at: second / 2)
        #expect(table.counters.refusedFormatChanges.value == 1)
        #expect(table.session(source, "s")?.streams["main"]?.channels == ChannelCount(2))
        send(table, frame(2, gpu: false, channels: 1), at: second)
        let stream = try #require(table.session(source, "s")?.streams["main"])
        #expect(stream.channels == .mono && stream.ring.stored == 1)
        #expect(table.counters.streamsActive.value == 1)
        // Flipping every line for the next second makes no new ring: every stereo frame is refused.
        for number in 3..<1_000 { send(table, frame(number, gpu: false, channels: number % 2 + 1), at: second + Int64(number) * 1_000_000) }
        #expect(table.counters.refusedFormatChanges.value == 1 + 499)
        #expect(table.session(source, "s")?.streams["main"] === stream)
    }

    @Test func limitsBoundSessionsAndStreams() {
        var configuration = IngestConfiguration()
        configuration.maximumSessions = 2
        configuration.maximumStreams = 3
        let table = SessionTable(configuration: configuration)
        for session in 0..<4 { send(table, frame(0, session: "s\(session)", gpu: false)) }
        #expect(table.counters.sessionsActive.value == 2 && table.counters.refusedSessions.value == 2)
        for stream in 0..<3 { send(table, frame(0, session: "s1", stream: "x\(stream)", gpu: false)) }
        #expect(table.counters.streamsActive.value == 3 && table.counters.refusedStreams.value == 2)
    }

    @Test func duplicatesAreDroppedAndCounted() {
        let table = SessionTable()
        for number in [0, 1, 1, 2, 2, 2] { send(table, frame(number, gpu: false)) }
        #expect(table.counters.duplicates.value == 3)
        #expect(table.session(source, "s")?.streams["main"]?.ring.stored == 3)
    }

    @Test func aFrameWhosePositionPlaybackHasPassedIsLate() throws {
        let table = SessionTable()
        send(table, frame(0, gpu: false))
        send(table, frame(1, gpu: false))
        let ring = try #require(table.session(source, "s")?.streams["main"]?.ring)
        _ = read(ring, from: 0, count: 1_440)  // playback is already past frame 2
        send(table, frame(2, gpu: false))
        #expect(table.counters.late.value == 1)
    }

    @Test func loopbackAndLocalSendersShareOurClockRemoteOnesAreMeasured() {
        let table = SessionTable(isSameHost: { $0.isLoopback || $0.address == "192.0.2.99" })
        send(table, frame(0, gpu: false))
        let local = SourceKey(transport: .tcp, address: "192.0.2.99", port: 1)
        send(table, frame(0, session: "l", gpu: false), from: local)
        send(table, frame(0, session: "r", gpu: false), from: remote, at: 1_000_000_000_000 + 300_000)
        #expect(table.session(source, "s")?.host.mode == .sameHost)
        #expect(table.session(local, "l")?.host.mode == .sameHost)
        #expect(table.session(remote, "r")?.host.mode == .oneWay)
    }

    /// A live sender's 10 ms frames, each arriving 10.3 ms after its first sample, against a
    /// device that mixes each 5 ms period 1 ms before it is heard: every frame needs 15 ms.
    func playLiveSender(latency: Nanoseconds) throws -> (arrivals: StreamArrivals, told: [String]) {
        let told = Mutex<[String]>([])
        var configuration = IngestConfiguration()
        configuration.latency = PlaybackLatency(latency)
        let schedule = PublishedDeviceSchedule()
        schedule.publish(.init(periodStart: .zero, period: .milliseconds(5), mixLead: .milliseconds(1)))
        configuration.deviceSchedule = schedule
        let table = SessionTable(configuration: configuration, sessionEvents: { event in told.withLock { $0.append("\(event)") } })
        for number in 0..<400 {
            send(table, frame(number, gpu: false), at: 1_000_000_000_000 + Int64(number) * 10_000_000 + 10_300_000)
        }
        let stream = try #require(table.session(source, "s")?.streams["main"])
        return (stream.arrivals, told.withLock { $0 })
    }

    @Test func eachFramesArrivalAndTheLatencyItNeededAreMeasured() throws {
        let (arrivals, told) = try playLiveSender(latency: .milliseconds(20))
        #expect(arrivals.count == 400)
        #expect(arrivals.latencyNeeded(quantile: 0.5) == .milliseconds(15) && arrivals.latencyNeeded(quantile: 0.99) == .milliseconds(15))
        #expect(arrivals.lateness(quantile: 0.99) == .microseconds(10_300))
        #expect(!told.contains { $0.contains("needs a latency") })
    }

    @Test func aStreamThatNeedsMoreLatencyThanThePlayersIsReportedWithWhatItNeeds() throws {
        let (_, told) = try playLiveSender(latency: .milliseconds(12))
        // Once (the frames span 4 s; the report repeats at most every 10 s).
        let reports = told.filter { $0.contains("needs a latency") }
        #expect(reports.count == 1)
        #expect(reports.first?.contains("needs a latency of 15.0ms") == true && reports.first?.contains("the latency is at most 12.0ms") == true,
                "\(reports)")
    }
}
