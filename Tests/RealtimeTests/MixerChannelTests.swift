import Buffer
import Core
import Realtime
import Testing

/// Streams are summed onto the device's channels: same channels one to one, mono to every
/// channel, extra channels dropped and counted; the sum is clipped to [−1, 1] and counted.
@Suite struct MixerChannelTests {
    /// 255 frames a period: an odd count, so the four-at-a-time loops have a tail.
    static let period = 255

    /// A stream of `channels` channels holding `frame` in every frame, due from before the first period.
    static func constantStream(_ frame: [Float], counters: PlaybackCounters) -> PlaybackStream {
        let channels = frame.count, frames = 48_000
        let ring = FrameRing(channels: ChannelCount(channels), capacity: frames)!
        let samples = (0..<frames).flatMap { _ in frame }
        _ = samples.withUnsafeBufferPointer { ring.write(firstSample: 0, frameCount: frames, samples: $0) }
        let timeline = PublishedTimeline()
        timeline.publish(.init(anchorSample: 0, anchorTime: .milliseconds(900), samplesPerSecond: 48_000))
        let handoff = StreamHandoff(streamID: nil, sampleRate: .standard, channels: ChannelCount(channels), ring: ring, timeline: timeline)
        return PlaybackStream(handoff, maximumPeriod: period, counters: counters)
    }

    /// Mixes four periods from 1 s on (the streams began before: the resampler's start is past)
    /// and returns the last one.
    static func mixLastPeriod(_ mixer: PlaybackMixer) -> [Float] {
        for index in 0..<4 {
            mixer.render(frames: period, firstTime: .seconds(1) + Nanoseconds(Int64(Double(index * period) / 48_000 * 1e9)), deviceRate: 48_000)
        }
        return Array(UnsafeBufferPointer(start: mixer.mix, count: period * mixer.channels))
    }

    @Test func twoStereoStreamsAreSummedAndTheSumIsClippedAndCounted() {
        let counters = PlaybackCounters(), slots = StreamSlots(capacity: 2)
        let mixer = PlaybackMixer(channels: 2, maximumPeriod: Self.period, latency: PlaybackLatency(.zero), slots: slots, counters: counters)
        _ = slots.attach(Self.constantStream([0.75, -0.25], counters: counters))
        _ = slots.attach(Self.constantStream([0.5, -0.5], counters: counters))
        let mix = Self.mixLastPeriod(mixer)
        #expect(mix.enumerated().allSatisfy { $0.offset % 2 == 0 ? $0.element == 1 : abs($0.element + 0.75) < 1e-5 })
        // Every left sample of the last three periods at least was beyond 1 (the first is the resampler's start).
        #expect(counters.clippedSamples.value >= 3 * Self.period && counters.clippedSamples.value <= 4 * Self.period)
    }

    @Test func aMonoStreamPlaysOnEveryChannelAndExtraChannelsAreDroppedAndCounted() {
        let counters = PlaybackCounters(), slots = StreamSlots(capacity: 2)
        let mixer = PlaybackMixer(channels: 2, maximumPeriod: Self.period, latency: PlaybackLatency(.zero), slots: slots, counters: counters)
        _ = slots.attach(Self.constantStream([0.25], counters: counters))
        _ = slots.attach(Self.constantStream([0.125, -0.5, 0.9, 0.9], counters: counters))
        let mix = Self.mixLastPeriod(mixer)
        #expect(mix.enumerated().allSatisfy { abs($0.element - ($0.offset % 2 == 0 ? 0.375 : -0.25)) < 1e-5 })
        #expect(counters.droppedChannelSamples.value == 4 * Self.period * 2)
        #expect(counters.clippedSamples.value == 0)
    }
}
