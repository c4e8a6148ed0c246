import Core
import Sender
import Testing

@Suite struct SenderClockTests {
    @Test func theKnobsOffsetSkewAndWrapTheReportedClockExactly() {
        let knobs = GPUClockKnobs(offset: .milliseconds(-2500), skewPartsPerMillion: 250, bits: 32)
        let origin: Int64 = 5_000_000_000
        for elapsed in [0, 1, 999_999_937, 3_600_000_000_000] as [Int64] {
            let raw = origin + elapsed
            let reported = knobs.reported(raw: raw, origin: origin)
            #expect(reported == raw - 2_500_000_000 + Int64((Double(elapsed) * 250e-6).rounded()))
            #expect(abs(knobs.raw(reported: reported, origin: origin) - raw) <= 1)
            #expect(knobs.wire(reported) == reported & 0xFFFF_FFFF)
            #expect((0..<(1 << 32)).contains(knobs.wire(reported)))
        }
        #expect(GPUClockKnobs().wire(-5) == -5)
    }

    @Test func theSampleClockStaysOnTheGridOverLongRuns() {
        let clock = SampleClock(start: 123, rate: SampleRate(hertz: 44_100))
        #expect(clock.gpuTime(ofSample: 44_100 * 86_400 * 30) == 123 + 86_400 * 30 * 1_000_000_000)
        #expect(clock.gpuTime(ofSample: 1) == 123 + 22_676)  // 22 675.7 ns rounds up
        #expect(abs(clock.sampleIndex(atGPU: clock.gpuTime(ofSample: 480_000)) - 480_000) < 1e-4)  // ½ ns of rounding
    }

    @Test func theClockModelMapsReportedGPUTimeToCPUTimeAndBack() {
        let reading = CalibrationReading(gpu: 9_000_000_000, cpu: .seconds(1), maxDeviation: 0, origin: .sender)
        var model = SenderClockModel(knobs: GPUClockKnobs(offset: .seconds(3), skewPartsPerMillion: -120), firstReading: reading)
        let cpu = Nanoseconds.seconds(50)
        #expect(abs((model.cpuTime(ofReportedGPU: model.reportedGPU(atCPU: cpu)) - cpu).rawValue) <= 1)
        // The raw GPU clock is 8 s ahead; 49 s later the reported one adds 3 s and −120 ppm of 49 s.
        #expect(model.reportedGPU(atCPU: cpu) == 9_000_000_000 + 49_000_000_000 + 3_000_000_000 - 5_880_000)
        model.update(with: CalibrationReading(gpu: 9_000_001_000, cpu: .seconds(1), maxDeviation: 0, origin: .sender))
        #expect(model.reportedGPU(atCPU: cpu) == 9_000_000_000 + 49_000_000_000 + 3_000_000_000 - 5_880_000 + 1_000)
    }
}
