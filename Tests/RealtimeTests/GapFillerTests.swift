import Buffer
import Core
import Foundation
import Realtime
import Testing

/// A stream's gaps played from the concealment worker's predictions.
@Suite struct GapFillerTests {
    static let origin = Nanoseconds.seconds(100)

    /// A sine stream with frames 4 800 ..< 5 280 lost, and `prediction` (frames from `start`) published.
    static func rig(prediction: [Float], start: Int64, endsOnAudio: Bool) -> StreamRig {
        let rig = StreamRig(concealment: .standard)
        rig.write(first: 0, count: 4_800, PlaybackStreamTests.sine)
        rig.write(first: 5_280, count: 4_320, PlaybackStreamTests.sine)
        rig.timeline.publish(.init(anchorSample: 0, anchorTime: origin, samplesPerSecond: 48_000))
        let prepared = rig.handoff.concealment!
        prepared.beginPrediction(for: start).update(from: prediction, count: prediction.count)
        prepared.publish(start: start, frames: prediction.count, endsOnAudio: endsOnAudio)
        return rig
    }

    @Test func aMissingFramePlaysThePredictionPreparedForItAndIsCountedConcealed() {
        let truth = (4_800..<5_280).map { PlaybackStreamTests.sine(Int64($0), 0) }
        let rig = Self.rig(prediction: truth, start: 4_800, endsOnAudio: true)
        let output = rig.render(periods: 40, start: Self.origin + .milliseconds(20))
        var worst: Float = 0
        for frame in 4_700..<5_400 { worst = max(worst, abs(output[frame] - PlaybackStreamTests.sine(Int64(frame), 0))) }
        #expect(worst < 1e-3, "largest error \(worst)")
        #expect(rig.counters.concealedFrames.value == 480 && rig.handoff.concealedFrames.value == 480)
        #expect(rig.counters.silentFrames.value == 0)
        #expect(rig.handoff.longestConcealedGap.value == 480)
        #expect(rig.counters.longestConcealedGap.value == 10_000_000)
    }

    @Test func aPredictionForAnotherGapIsNotPlayed() {
        let rig = Self.rig(prediction: [Float](repeating: 0.3, count: 960), start: 4_320, endsOnAudio: false)
        let output = rig.render(periods: 40, start: Self.origin + .milliseconds(20))
        #expect(output[4_900..<5_200].allSatisfy { $0 == 0 })
        #expect(rig.counters.concealedFrames.value == 0)
        #expect(rig.counters.silentFrames.value == 480)
    }

    @Test func aForwardPredictionIsCrossfadedIntoTheAudioWhereItResumes() {
        let rig = Self.rig(prediction: [Float](repeating: 0.3, count: 960), start: 4_800, endsOnAudio: false)
        let output = rig.render(periods: 40, start: Self.origin + .milliseconds(20))
        #expect(output[4_850..<5_270].allSatisfy { abs($0 - 0.3) < 1e-3 })
        // 2 ms (96 frames) from the prediction to the stream: cos² weights.
        for offset in [4, 24, 48, 72, 92] {
            let weight = Float(pow(cos((Double(offset) + 0.5) / 96 * Double.pi / 2), 2))
            let expected = weight * 0.3 + (1 - weight) * PlaybackStreamTests.sine(Int64(5_280 + offset), 0)
            #expect(abs(output[5_280 + offset] - expected) < 0.01, "at \(offset): \(output[5_280 + offset]) for \(expected)")
        }
        for frame in 5_380..<5_600 { #expect(abs(output[frame] - PlaybackStreamTests.sine(Int64(frame), 0)) < 1e-3) }
        #expect(rig.counters.concealedFrames.value == 480)
    }
}
