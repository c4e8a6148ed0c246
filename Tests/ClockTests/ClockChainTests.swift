import Clock
import Core
import Testing

/// The chain end to end: GPU stamps → timeline → calibration → host mapping.
@Suite struct ClockChainTests {
    @Test func aRemoteGPUStreamLandsOnTheLocalClockAtItsTrueRate() {
        // GPU 150 ppm fast against the sender's CPU; the sender's CPU 40 ppm slow against ours.
        let second: Int64 = 1_000_000_000
        let start: Int64 = 1_000_000_000_000
        let gpu = SimulatedGPUClock(skewPPM: 150)
        let senderOffset: Int64 = 86_400 * second
        func senderCPU(atLocal local: Int64) -> Int64 { local + senderOffset - Int64((Double(local - start) * 40e-6).rounded()) }
        func local(atSenderCPU cpu: Int64) -> Int64 { start + Int64((Double(cpu - senderOffset - start) / (1 - 40e-6)).rounded()) }

        var calibration = SessionCalibration()
        var host = HostClockMapping(sameHost: false)
        var timeline = StreamTimeline(nominalRate: .standard)
        for block in 0..<30 {
            let localTime = start + Int64(block) * second
            let cpu = senderCPU(atLocal: localTime)
            calibration.add(gpu.block(atCPU: cpu), receivedAt: Nanoseconds(localTime))
            host.addExchange(probeSent: Nanoseconds(localTime - 200_000), probeReceived: Nanoseconds(senderCPU(atLocal: localTime)),
                             echoSent: Nanoseconds(senderCPU(atLocal: localTime)), echoReceived: Nanoseconds(localTime + 200_000))
        }
        // A stream on the GPU sample clock: frame k's first sample at GPU time g0 + k × 10 ms.
        let g0 = gpu.gpuTime(atCPU: senderCPU(atLocal: start + 20 * second))
        for frame in 0..<500 {
            let gpuTime = calibration.gpuTime(forGPUTimestamp: g0 + Int64(frame) * 10_000_000)!
            _ = timeline.observe(stamp: gpuTime, sampleCount: 480, sequence: UInt64(frame))
        }
        // Sample 480 × 100 is at GPU time g0 + 1 s: its true local time goes back through both clocks.
        let trueSenderCPU = start + Int64((Double(g0 + second - gpu.offset - start)) / (1 + 150e-6))
        let expected = local(atSenderCPU: trueSenderCPU)
        let computed = ClockChain.localTime(ofSample: 48_000, on: timeline.line, calibration: calibration, host: host)!
        #expect(abs(computed.rawValue - expected) <= 100)
        // And back: the sample due at that local time is the one we asked about.
        let index = ClockChain.sampleIndex(atLocalTime: computed, on: timeline.line, calibration: calibration, host: host)!
        #expect(abs(index - 48_000) < 0.01)
        // 48 kHz on a GPU clock 150 ppm fast is 48000 × (1 + 150 ppm) per sender-CPU second, and
        // × (1 − 40 ppm) per local second.
        let rate = ClockChain.localRate(at: 48_000, on: timeline.line, nominalRate: .standard, calibration: calibration, host: host)!
        #expect(abs(rate - 48_000 * (1 + 150e-6) * (1 - 40e-6)) < 0.01)
    }

    @Test func aCPUStampedStreamOnThisHostNeedsNoCalibration() {
        var timeline = StreamTimeline(nominalRate: .standard)
        _ = timeline.observe(stamp: Nanoseconds(5_000_000_000), sampleCount: 480, sequence: 0)
        let host = HostClockMapping(sameHost: true)
        #expect(ClockChain.localTime(ofSample: 4_800, on: timeline.line, calibration: nil, host: host) == Nanoseconds(5_100_000_000))
        #expect(ClockChain.localTime(ofSample: 0, on: timeline.line, calibration: SessionCalibration(), host: host) == nil)
    }
}
