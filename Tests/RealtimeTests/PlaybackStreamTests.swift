import Buffer
import Core
import Foundation
import Realtime
import Testing

/// A stream rendered period by period against a simulated device clock.
struct StreamRig {
    let ring: FrameRing
    let timeline = PublishedTimeline()
    let counters = PlaybackCounters()
    let stream: PlaybackStream
    let rate: Double
    let channels: Int

    let handoff: StreamHandoff

    /// With `concealment`, the stream's gaps are filled from the predictions published to ``handoff``.
    init(channels: Int = 1, rate: Double = 48_000, period: Int = 256, concealment: ConcealmentSettings? = nil) {
        ring = FrameRing(channels: ChannelCount(channels), capacity: 262_144)!
        handoff = StreamHandoff(streamID: nil, sampleRate: .standard, channels: ChannelCount(channels), ring: ring, timeline: timeline,
                                concealment: concealment == nil ? nil : PreparedConcealment(channels: ChannelCount(channels), capacity: 2_880))
        stream = PlaybackStream(handoff, maximumPeriod: period, counters: counters, concealment: concealment)
        self.rate = rate
        self.channels = channels
    }

    /// Writes frames [first, first + count) of `signal(index, channel)`, 480 frames a message.
    func write(first: Int64, count: Int, _ signal: (Int64, Int) -> Float) {
        for start in stride(from: first, to: first + Int64(count), by: 480) {
            let frames = Int(min(480, first + Int64(count) - start))
            var samples = [Float](repeating: 0, count: frames * channels)
            for frame in 0..<frames { for channel in 0..<channels { samples[frame * channels + channel] = signal(start + Int64(frame), channel) } }
            _ = samples.withUnsafeBufferPointer { ring.write(firstSample: start, frameCount: frames, samples: $0) }
        }
    }

    /// Renders `periods` periods of `period` frames, the first heard at `start`, device at `deviceRate`.
    func render(periods: Int, period: Int = 256, start: Nanoseconds, deviceRate: Double = 48_000, latency: Nanoseconds = .milliseconds(20),
                beforeEach: (Int) -> Void = { _ in }) -> [Float] {
        var output = [Float](repeating: 0, count: periods * period * channels)
        var buffer = [Float](repeating: .nan, count: period * channels)
        for index in 0..<periods {
            beforeEach(index)
            let time = start + Nanoseconds(Int64((Double(index * period) / deviceRate * 1e9).rounded()))
            buffer.withUnsafeMutableBufferPointer {
                _ = stream.render(frames: period, firstTime: time, deviceRate: deviceRate, latency: latency, into: $0.baseAddress!)
            }
            output.replaceSubrange(index * period * channels ..< (index + 1) * period * channels, with: buffer)
        }
        return output
    }
}

@Suite struct PlaybackStreamTests {
    static func sine(_ index: Int64, _ channel: Int) -> Float { Float(0.5 * sin(2 * Double.pi * 1000 * Double(index) / 48_000)) }

    @Test func noLineATimelineCanHoldMakesTheRenderTrap() {
        let rig = StreamRig()
        rig.write(first: 0, count: 96_000, Self.sine)
        let origin = Nanoseconds.seconds(100)
        let indices: [Int64] = [.min, .min + 1, -(1 << 62), -1, 0, 1, 1 << 52, 1 << 62, .max - 1, .max]
        let times: [Int64] = [.min, -(1 << 62), 0, origin.rawValue, 1 << 62, .max]
        var period = 0
        for index in indices {
            for time in times {
                for rate in Self.absurdRates + [0.5, 1, 48_000, 2_000_000] {
                    rig.timeline.publish(.init(anchorSample: index, anchorTime: Nanoseconds(time), samplesPerSecond: rate))
                    let output = rig.render(periods: 1, start: origin + Nanoseconds(Int64(period) * 5_333_333))
                    #expect(output.allSatisfy { $0.isFinite })
                    period += 1
                }
            }
        }
    }

    static let absurdRates: [Double] = [.nan, .infinity, -.infinity, -48_000, 0, .leastNonzeroMagnitude, 2_000_001, 1e300, .greatestFiniteMagnitude]

    @Test func aLineWithARateNoClockGivesIsSilenceAndTheNextGoodLinePlays() {
        let rig = StreamRig()
        rig.write(first: 0, count: 96_000, Self.sine)
        let origin = Nanoseconds.seconds(100)
        for (period, rate) in Self.absurdRates.enumerated() {
            rig.timeline.publish(.init(anchorSample: 0, anchorTime: origin, samplesPerSecond: rate))
            #expect(rig.render(periods: 1, start: origin + Nanoseconds(Int64(period) * 5_333_333)).allSatisfy { $0 == 0 })
        }
        rig.timeline.publish(.init(anchorSample: 0, anchorTime: origin, samplesPerSecond: 48_000))
        let output = rig.render(periods: 40, start: origin + .milliseconds(30))
        #expect(output[(10 * 256)...].contains { abs($0) > 0.4 })
    }

    @Test func aStreamPlaysEachSampleAtItsTimePlusTheLatency() {
        let rig = StreamRig()
        rig.write(first: 0, count: 48_000, Self.sine)
        let origin = Nanoseconds.seconds(100)
        rig.timeline.publish(.init(anchorSample: 0, anchorTime: origin, samplesPerSecond: 48_000))
        // The device hears its first frame 10 ms before the stream's first sample is due (+ latency).
        let start = origin + .milliseconds(20) - .milliseconds(10)
        let output = rig.render(periods: 150, start: start)
        // 480 frames of silence, then the sine from its first sample.
        #expect(output[0..<470].allSatisfy { $0 == 0 })
        var worst: Float = 0
        for frame in 2_000..<output.count {
            let expected = Self.sine(Int64(frame - 480), 0)
            worst = max(worst, abs(output[frame] - expected))
        }
        #expect(worst < 1e-3, "largest error \(worst)")
        #expect(rig.counters.streamReanchors.value == 0)
        #expect(rig.counters.silentFrames.value == 0)
    }

    @Test func aMissingFrameIsPlayedAsSilenceAndCountedButTheStreamsEndIsNot() {
        let rig = StreamRig()
        rig.write(first: 0, count: 4_800, Self.sine)
        rig.write(first: 5_280, count: 4_320, Self.sine)  // frame 4 800..<5 280 lost
        let origin = Nanoseconds.seconds(100)
        rig.timeline.publish(.init(anchorSample: 0, anchorTime: origin, samplesPerSecond: 48_000))
        let output = rig.render(periods: 80, start: origin + .milliseconds(20))  // 0.43 s: past the end (0.2 s)
        #expect(output[4_900..<5_200].allSatisfy { $0 == 0 })
        #expect(output[5_400..<5_500].contains { $0 != 0 })
        #expect(rig.counters.silentFrames.value == 480)
        #expect(rig.counters.streamReanchors.value == 0)
    }
}

extension PlaybackStreamTests {
    /// The device's timing stepped 1 ms later (the JACK server recovering from a stall), below
    /// the re-anchor threshold: the stream slews onto the timeline at the loop's full authority
    /// and stops there, rather than overshooting by as much again (an integral wound up through
    /// the slew) and swinging for seconds.
    @Test func aStepOfTheDevicesTimingIsSlewedOffWithoutOvershoot() {
        let rig = StreamRig()
        // 50 Hz: one cycle is 960 frames, so the phase tells an offset of up to ±480 frames.
        let frequency = 50.0
        rig.write(first: 0, count: 48_000 * 5 + 2_400) { index, _ in Float(0.5 * sin(2 * Double.pi * frequency * Double(index) / 48_000)) }
        let origin = Nanoseconds.seconds(100)
        rig.timeline.publish(.init(anchorSample: 0, anchorTime: origin, samplesPerSecond: 48_000))
        let start = origin + .milliseconds(20)
        let before = 375, after = 560  // 2 s, then 3 s of 256-frame periods (the ring holds 5.4 s)
        let step = Nanoseconds.milliseconds(1)
        let output = rig.render(periods: before, start: start)
            + rig.render(periods: after, start: start + Nanoseconds(Int64(before * 256) * 1_000_000_000 / 48_000) + step)
        /// The stream's position error (frames; negative: behind the timeline) over 960 frames
        /// from output frame `first`, from the sine's phase against the samples due then.
        func offset(at first: Int) -> Double {
            var inPhase = 0.0, quadrature = 0.0
            for frame in first..<first + 960 {
                let due = Double(frame) + (frame >= before * 256 ? 48 : 0)
                let phase = 2 * Double.pi * frequency * due / 48_000
                inPhase += Double(output[frame]) * sin(phase)
                quadrature += Double(output[frame]) * cos(phase)
            }
            return atan2(quadrature, inPhase) / (2 * Double.pi * frequency) * 48_000
        }
        let settled = offset(at: before * 256 - 2 * 960)
        #expect(abs(settled) < 1, "before the step the stream is \(settled) frames off")
        #expect(offset(at: before * 256 + 960) < -40, "just after the step the stream is 48 frames behind")
        let afterStep = stride(from: before * 256 + 960, to: output.count - 960, by: 960).map(offset)
        #expect(afterStep.max()! < 3, "overshoot \(afterStep.max()!) frames")
        // At full authority (2000 ppm, ≈ 1 frame every 10 ms) it is back within a second or so.
        let late = afterStep.suffix(from: 75)  // from 1.5 s after the step
        #expect(late.allSatisfy { abs($0) < 1.5 }, "1.5 s after the step: \(late.map { ($0 * 10).rounded() / 10 })")
        #expect(rig.counters.streamReanchors.value == 0)
    }
}
