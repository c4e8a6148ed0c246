import Buffer
import ConcealmentMeasurement
import Core
import Realtime

/// What concealment costs the playback thread: one 48 kHz stereo stream losing 5 % of its 10 ms
/// frames, rendered in 256-frame periods with its gaps filled from predictions (each published
/// before playback reaches its gap, as the worker does), beside the same stream with concealment
/// off. Nanoseconds per period: mean, 99th percentile, worst.
enum RenderCost {
    static func measure(concealment: Bool, seconds: Int = 20) -> (mean: Double, p99: Double, worst: Double) {
        let rate = 48_000, period = 256, frames = seconds * rate
        let pattern = LossPattern.random(0.05, frames: frames / LossPattern.frameLength, seed: 3)
        let ring = FrameRing(channels: ChannelCount(2), capacity: frames + 4_800)!
        let timeline = PublishedTimeline()
        let prepared = concealment ? PreparedConcealment(channels: ChannelCount(2), capacity: 2_880) : nil
        let handoff = StreamHandoff(streamID: nil, sampleRate: .standard, channels: ChannelCount(2), ring: ring, timeline: timeline,
                                    concealment: prepared)
        let stream = PlaybackStream(handoff, maximumPeriod: period, counters: PlaybackCounters(),
                                    concealment: concealment ? .standard : nil)
        let samples = [Float](repeating: 0.25, count: LossPattern.frameLength * 2)
        for (index, lost) in pattern.lost.enumerated() where !lost {
            _ = samples.withUnsafeBufferPointer { ring.write(firstSample: Int64(index * LossPattern.frameLength), frameCount: LossPattern.frameLength, samples: $0) }
        }
        let origin = Nanoseconds.seconds(100)
        timeline.publish(.init(anchorSample: 0, anchorTime: origin, samplesPerSecond: Double(rate)))
        let gaps = pattern.gaps
        var nextGap = 0
        let output = UnsafeMutablePointer<Float>.allocate(capacity: period * 2)
        defer { output.deallocate() }
        let clock = SystemMonotonicClock()
        var times: [Double] = []
        times.reserveCapacity(frames / period)
        for index in 0..<(frames / period - 10) {
            // The worker's part: the next gap's prediction, once playback is within 20 ms of it.
            if let prepared, nextGap < gaps.count, gaps[nextGap].start < index * period + 960 {
                prepared.beginPrediction(for: Int64(gaps[nextGap].start)).update(repeating: 0.2, count: 2 * gaps[nextGap].length)
                prepared.publish(start: Int64(gaps[nextGap].start), frames: gaps[nextGap].length, endsOnAudio: nextGap % 2 == 0)
                nextGap += 1
            }
            let firstTime = origin + .milliseconds(20) + Nanoseconds(Int64(index * period) * 1_000_000_000 / Int64(rate))
            let start = clock.now()
            _ = stream.render(frames: period, firstTime: firstTime, deviceRate: Double(rate), latency: .milliseconds(20), into: output)
            times.append(Double((clock.now() - start).rawValue))
        }
        let sorted = times.sorted()
        return (times.reduce(0, +) / Double(times.count), sorted[sorted.count * 99 / 100], sorted.last ?? 0)
    }
}
