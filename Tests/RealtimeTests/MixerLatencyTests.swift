import Buffer
import Core
import Foundation
import Realtime
import Testing

/// The latency in force follows its target smoothly: a stream's drift lock follows it without a
/// jump, and what was in time stays in time.
@Suite struct MixerLatencyTests {
    @Test func aNewTargetIsReachedAtTheSlewRateWithoutAJumpOrAGap() {
        let counters = PlaybackCounters()
        let slots = StreamSlots(capacity: 1)
        let latency = PlaybackLatency(.milliseconds(20))
        let mixer = PlaybackMixer(channels: 1, maximumPeriod: 256, latency: latency, slots: slots, counters: counters)
        // A 48 kHz, 100 Hz sine at 0.5 whose sample 0 is due at 1 s, its ring filled ahead: it
        // moves at most 0.0066 between samples, and a sample skipped or repeated doubles that.
        let ring = FrameRing(channels: ChannelCount(1), capacity: 1_048_576)!
        let samples = (0..<960_000).map { Float(0.5 * sin(2 * Double.pi * 100 * Double($0) / 48_000)) }
        _ = samples.withUnsafeBufferPointer { ring.write(firstSample: 0, frameCount: 960_000, samples: $0) }
        let timeline = PublishedTimeline()
        timeline.publish(.init(anchorSample: 0, anchorTime: .seconds(1), samplesPerSecond: 48_000))
        let stream = StreamHandoff(streamID: nil, sampleRate: .standard, channels: ChannelCount(1), ring: ring, timeline: timeline)
        #expect(slots.attach(PlaybackStream(stream, maximumPeriod: 256, counters: counters)) != nil)
        let period = 256.0 / 48_000 * 1e9
        var previous = latency.inForce, largestStep = Nanoseconds.zero, largestJump: Float = 0, last: Float?, jumpAt = 0
        for index in 0..<1_500 {
            if index == 300 { latency.target = .milliseconds(23) }  // 1.6 s in: 3 ms more
            mixer.render(frames: 256, firstTime: .seconds(1) + Nanoseconds(Int64(Double(index) * period)), deviceRate: 48_000)
            largestStep = max(largestStep, latency.inForce - previous)
            previous = latency.inForce
            for frame in 0..<256 {
                let sample = mixer.mix[frame]
                // (From the stream's first sample on: the silence before it is no step.)
                if let last, index > 10, abs(sample - last) > largestJump { largestJump = abs(sample - last); jumpAt = index * 256 + frame }
                last = sample
            }
        }
        // 3 ms at half a percent of the time played: 0.6 s; then held.
        #expect(latency.inForce == .milliseconds(23))
        #expect(largestStep <= Nanoseconds(Int64(period * PlaybackMixer.slewRate) + 1))
        #expect(largestJump < 0.009, "a step of \(largestJump) at output frame \(jumpAt)")
        #expect(counters.streamReanchors.value == 0 && counters.silentFrames.value == 0)
    }
}
