import Clock
import Core
import Testing

/// The clock chain fed the numbers a hostile sender can put in a message, directly (without the
/// decoder's ranges in front): nothing traps, and what comes out is within ±2^62 ns or nil.
@Suite struct ExtremeValueTests {
    static let limit = Nanoseconds.networkLimit.rawValue
    /// Boundaries of every range involved, and plausible values beside them.
    static let values: [Int64] = [
        .min, .min + 1, -limit - 1, -limit, -limit + 1, -(1 << 53) - 1, -1_000_000_000, -1, 0, 1, 1_000_000_000,
        1_700_000_000_000_000_000, (1 << 53) + 1, limit - 1, limit, limit + 1, .max - 1, .max,
    ]
    static let units: [TimestampUnit] = [
        .nanoseconds, .microseconds, .milliseconds, .ticks(periodNanoseconds: 52.083), .ticks(periodNanoseconds: 1e300),
        .ticks(periodNanoseconds: 0.01), .ticks(periodNanoseconds: .nan), .ticks(periodNanoseconds: -1), .ticks(periodNanoseconds: .infinity),
    ]
    static let deviations: [Double?] = [nil, 0, 1, 1e9, 1e9 + 1, 1e200, -1, .nan, .infinity, .leastNonzeroMagnitude]

    static func isSane(_ time: Nanoseconds?) -> Bool { time.map(\.isWithinNetworkLimit) ?? true }

    @Test func calibrationTakesEveryExtremeBlockAndFrameWithoutTrapping() {
        var outcomes: [SessionCalibration.BlockOutcome: Int] = [:]
        for unit in Self.units {
            for bits in [1, 16, 32, 63, 64] {
                var calibration = SessionCalibration()
                for (index, cpu) in Self.values.enumerated() {
                    for gpu in Self.values {
                        let deviation = Self.deviations[index % Self.deviations.count]
                        let reading = bits < 64 ? gpu & (Int64.max >> (63 - bits)) : gpu
                        let outcome = calibration.add(CalibrationBlock(cpuTimestamp: cpu, gpuTimestamp: reading, unit: unit, counterBits: bits, maxDeviation: deviation),
                                                      receivedAt: Nanoseconds(Int64(index) * 1_000_000))
                        outcomes[outcome, default: 0] += 1
                        let gpuTime = calibration.gpuTime(forGPUTimestamp: gpu)
                        #expect(Self.isSane(gpuTime))
                        #expect(Self.isSane(calibration.cpuTime(forGPUTimestamp: cpu)))
                        #expect(Self.isSane(calibration.cpuTime(forCPUTimestamp: cpu)))
                        #expect(Self.isSane(calibration.cpuTime(forGPUTime: Nanoseconds(gpu))))
                        #expect(Self.isSane(calibration.gpuTime(forCPUTime: Nanoseconds(cpu))))
                        let status = calibration.status
                        #expect(status.skewPPM.isFinite && status.offset.rawValue != .min)
                    }
                }
            }
        }
        // Both kinds were seen: the extremes are refused, the values in range taken.
        #expect(outcomes[.invalid, default: 0] > 0 && outcomes[.accepted, default: 0] + outcomes[.relocked, default: 0] > 0)
    }

    @Test func theIssuesBlocksAreInvalidNotAnEmptyFit() {
        var calibration = SessionCalibration()
        #expect(calibration.add(CalibrationBlock(cpuTimestamp: 1_000, gpuTimestamp: 2_000, maxDeviation: 1e200), receivedAt: .zero) == .invalid)
        #expect(calibration.add(CalibrationBlock(cpuTimestamp: 1, gpuTimestamp: 2, unit: .ticks(periodNanoseconds: 1e300)), receivedAt: .zero) == .invalid)
        #expect(calibration.status.mode == .uncalibrated)
        // Weights near the bound's end still fit: a second's deviation.
        for block in 0..<10 {
            let time = Int64(block) * 1_000_000_000
            _ = calibration.add(CalibrationBlock(cpuTimestamp: time, gpuTimestamp: time + 5_000, maxDeviation: 1e9), receivedAt: Nanoseconds(time))
        }
        #expect(calibration.cpuTime(forGPUTimestamp: 20_000_005_000) == Nanoseconds(20_000_000_000))
    }

    @Test func aStreamTimelineTakesEveryExtremeStampAndSequenceWithoutTrapping() {
        let sequences: [UInt64?] = [nil, 0, 1, 999_999, 1_000_000, .max - 1, .max]
        for rate in [1, 8_000, 48_000, 768_000] {
            var timeline = StreamTimeline(nominalRate: SampleRate(hertz: rate))
            var number = 0
            for stamp in Self.values {
                for count in [0, 1, 480, 65_536, StreamTimeline.maximumFrameLength, StreamTimeline.maximumFrameLength + 1, .max] {
                    number += 1
                    let placement = timeline.observe(stamp: Nanoseconds(stamp), sampleCount: count, sequence: sequences[number % sequences.count])
                    if let first = placement.firstSample { #expect(first.magnitude <= UInt64(StreamTimeline.indexLimit)) }
                    #expect(Self.isSane(timeline.line.time(ofSample: Int64(number))))
                    #expect(timeline.line.period.isFinite && timeline.line.anchorTime.isWithinNetworkLimit)
                }
            }
            #expect(Self.isSane(timeline.line.time(ofSample: .max)) && Self.isSane(timeline.line.time(ofSample: .min)))
        }
    }

    /// The lowest rate and long frames, stamps across nearly half the range: a block of
    /// observations closes and refits merge its hull vertices without trapping, on the line.
    @Test func aBlockOfObservationsAcrossHalfTheStampRangeIsFitted() throws {
        var timeline = StreamTimeline(nominalRate: SampleRate(hertz: 1))
        let frame = StreamTimeline.maximumFrameLength / 2
        let start: Int64 = 1, frameNanoseconds = Int64(frame) * 1_000_000_000
        for number in 0..<130 {
            let placement = timeline.observe(stamp: Nanoseconds(start + Int64(number) * frameNanoseconds), sampleCount: frame, sequence: UInt64(number))
            #expect(placement == .placed(firstSample: Int64(number * frame)))
        }
        let last = try #require(timeline.line.time(ofSample: Int64(129 * frame)))
        #expect(abs(last.rawValue - (start + 129 * frameNanoseconds)) < 1_000_000)
    }

    @Test func hostMappingTakesEveryExtremeExchangeWithoutTrapping() {
        var mapping = HostClockMapping(sameHost: false)
        for t1 in Self.values {
            for t2 in Self.values {
                mapping.addExchange(probeSent: Nanoseconds(t1), probeReceived: Nanoseconds(t2), echoSent: Nanoseconds(t2 &+ 100),
                                    echoReceived: Nanoseconds(t1 &+ 1_000))
                mapping.addOneWay(senderTime: Nanoseconds(t2), arrival: Nanoseconds(t1))
                #expect(Self.isSane(mapping.localTime(forSenderTime: Nanoseconds(t2))))
                #expect(Self.isSane(mapping.senderTime(forLocalTime: Nanoseconds(t1))))
                #expect(mapping.status.skewPPM.isFinite)
            }
        }
        // One way only (exchanges take over from it above): minima at both ends of the range,
        // seconds apart, so that their envelope is fitted with its drift.
        var oneWay = HostClockMapping(sameHost: false)
        for (index, difference) in [Self.limit, -Self.limit, 0, Self.limit - 1, -Self.limit + 1, 1].enumerated() {
            let arrival = Int64(index) * 20_000_000_000
            oneWay.addOneWay(senderTime: Nanoseconds(arrival - difference), arrival: Nanoseconds(arrival))
            #expect(Self.isSane(oneWay.localTime(forSenderTime: Nanoseconds(arrival))))
            #expect(oneWay.status.skewPPM.isFinite)
        }
    }

    @Test func theWholeChainGivesLocalTimesWithinRangeOrNothing() {
        var calibration = SessionCalibration()
        _ = calibration.add(CalibrationBlock(cpuTimestamp: Self.limit - 10, gpuTimestamp: 0), receivedAt: .zero)
        var host = HostClockMapping(sameHost: false)
        host.addOneWay(senderTime: Nanoseconds(-Self.limit), arrival: Nanoseconds(Self.limit))  // refused: 2^63 apart
        host.addOneWay(senderTime: Nanoseconds(Self.limit - 10), arrival: Nanoseconds(5))
        for anchor in Self.values {
            let line = StreamTimeline.Line(anchorIndex: 0, anchorTime: Nanoseconds(anchor), period: 20_833.3)
            for index in [Int64.min, -1, 0, 1, StreamTimeline.indexLimit, .max] {
                #expect(Self.isSane(ClockChain.localTime(ofSample: index, on: line, calibration: calibration, host: host)))
                #expect(ClockChain.localRate(at: index, on: line, nominalRate: .standard, calibration: calibration, host: host).map(\.isFinite) ?? true)
                #expect(ClockChain.sampleIndex(atLocalTime: Nanoseconds(anchor), on: line, calibration: calibration, host: host).map { !$0.isNaN } ?? true)
            }
        }
    }
}
