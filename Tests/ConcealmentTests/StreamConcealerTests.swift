import Buffer
@testable import Concealment
import Core
import Foundation
import Synchronization
import Testing
import TestSupport

/// The concealment worker's side of a stream: which gaps it predicts, when, and how well.
@Suite struct StreamConcealerTests {
    static let settings = ConcealmentSettings.standard
    static let rate = SampleRate.standard

    static func sine(_ index: Int64) -> Float { Float(0.5 * sin(2 * Double.pi * 440 * Double(index) / 48_000)) }

    /// A mono stream with concealment's ring and room for predictions.
    static func handoff() -> StreamHandoff {
        let retained = ConcealmentSettings.frames(settings.history, at: rate)
        let ring = FrameRing(channels: ChannelCount(1), capacity: 48_000 + retained, retained: retained)!
        let prepared = PreparedConcealment(channels: ChannelCount(1), capacity: ConcealmentSettings.frames(settings.limit, at: rate))
        return StreamHandoff(streamID: nil, sampleRate: rate, channels: ChannelCount(1), ring: ring, concealment: prepared)
    }

    /// Writes 10 ms frames of the sine over `positions`, the last arriving at `arrival`.
    static func write(_ handoff: StreamHandoff, _ positions: Range<Int64>, arrival: Nanoseconds) {
        for start in stride(from: positions.lowerBound, to: positions.upperBound, by: 480) {
            let samples = (start..<(start + 480)).map(sine)
            _ = samples.withUnsafeBufferPointer { handoff.ring.write(firstSample: start, frameCount: 480, samples: $0) }
        }
        handoff.lastFrameLength.store(480, ordering: .relaxed)
        handoff.lastArrival.store(arrival.rawValue, ordering: .releasing)
    }

    /// When the stream's last frame before the tests' gaps arrived.
    static let arrival = Nanoseconds.seconds(50)

    /// A stream of 200 ms of the sine, the last frame come at ``arrival``, and its concealer,
    /// which has looked at it once since.
    static func concealerAfterTwoHundredMilliseconds() -> (StreamHandoff, StreamConcealer) {
        let handoff = handoff()
        write(handoff, 0..<9_600, arrival: arrival)
        let concealer = StreamConcealer(handoff, prepared: handoff.concealment!, settings: settings)
        _ = concealer.service(now: arrival + .milliseconds(5))
        return (handoff, concealer)
    }

    /// The prediction playback would find for the gap at `start`, as samples; nil if none was published.
    static func taken(_ handoff: StreamHandoff, start: Int64) -> (samples: [Float], endsOnAudio: Bool)? {
        let prepared = handoff.concealment!
        defer { prepared.releaseClaim() }
        return prepared.claim(start: start).map { (Array(UnsafeBufferPointer(start: $0.samples, count: $0.frames)), $0.endsOnAudio) }
    }

    static func snr(_ predicted: ArraySlice<Float>, from start: Int64) -> Double {
        BurgPredictorTests.snr(Array(predicted), (start..<(start + Int64(predicted.count))).map(sine))
    }

    @Test func anOverdueFrameIsPredictedForwardFromWhatCameBefore() throws {
        let handoff = Self.handoff()
        let arrival = Self.arrival
        Self.write(handoff, 0..<9_600, arrival: arrival)
        let concealer = StreamConcealer(handoff, prepared: handoff.concealment!, settings: Self.settings)
        // The next frame is due 10 ms after the last came, overdue 1 ms after that.
        #expect(concealer.service(now: arrival + .milliseconds(5)) == arrival + .milliseconds(11))
        #expect(Self.taken(handoff, start: 9_600) == nil)
        _ = concealer.service(now: arrival + .milliseconds(11))
        let prediction = try #require(Self.taken(handoff, start: 9_600))
        #expect(prediction.samples.count == 2_880 && !prediction.endsOnAudio)
        #expect(Self.snr(prediction.samples[0..<480], from: 9_600) > 30)
        // It fades out before the limit.
        #expect(abs(prediction.samples.last ?? 1) < 1e-4)
        // Once is enough: no second prediction for the same frame.
        _ = concealer.service(now: arrival + .milliseconds(20))
        #expect(concealer.predictionsMade == 1)
    }

    @Test func aGapWithFramesAfterItIsPredictedFromBothSides() throws {
        let (handoff, concealer) = Self.concealerAfterTwoHundredMilliseconds()
        let arrival = Self.arrival
        Self.write(handoff, 10_080..<14_400, arrival: arrival + .milliseconds(100))
        _ = concealer.service(now: arrival + .milliseconds(100))
        let prediction = try #require(Self.taken(handoff, start: 9_600))
        #expect(prediction.samples.count == 480 && prediction.endsOnAudio)
        #expect(Self.snr(prediction.samples[...], from: 9_600) > 30)
    }

    @Test func gapsThatCameToLightTogetherAreEachPredicted() throws {
        let (handoff, concealer) = Self.concealerAfterTwoHundredMilliseconds()
        let arrival = Self.arrival
        // Two frames, each after a lost one, before the worker looks again.
        Self.write(handoff, 10_080..<10_560, arrival: arrival + .milliseconds(20))
        Self.write(handoff, 11_040..<11_520, arrival: arrival + .milliseconds(21))
        _ = concealer.service(now: arrival + .milliseconds(21))
        for start: Int64 in [9_600, 10_560] {
            let prediction = try #require(Self.taken(handoff, start: start), "the gap at \(start)")
            #expect(prediction.endsOnAudio && prediction.samples.count == 480)
            #expect(Self.snr(prediction.samples[...], from: start) > 25)
        }
    }

    @Test func aGapPlaybackHasReachedIsLeftAlone() {
        let handoff = Self.handoff()
        let arrival = Self.arrival
        Self.write(handoff, 0..<9_600, arrival: arrival)
        let concealer = StreamConcealer(handoff, prepared: handoff.concealment!, settings: Self.settings)
        var output = [Float](repeating: 0, count: 9_700)
        _ = output.withUnsafeMutableBufferPointer { handoff.ring.read(from: 0, frameCount: 9_700, into: $0) }
        Self.write(handoff, 10_080..<14_400, arrival: arrival + .milliseconds(100))
        _ = concealer.service(now: arrival + .milliseconds(101))
        #expect(Self.taken(handoff, start: 9_600) == nil && concealer.predictionsMade == 0)
    }

    @Test func theWorkerPredictsAGapAsSoonAsTheFrameAfterItComes() async throws {
        let worker = ConcealmentWorker(settings: Self.settings)
        worker.start()
        defer { worker.stop() }
        let handoff = Self.handoff()
        let now = SystemMonotonicClock().now()
        Self.write(handoff, 0..<9_600, arrival: now)
        #expect(worker.add(handoff))
        // The frame after a lost one arrives at once, long before the lost one is overdue.
        Self.write(handoff, 10_080..<10_560, arrival: now)
        worker.gapRevealed()
        let predicted = await eventually(within: 2) { worker.predictions.value >= 1 }
        #expect(predicted)
        let prediction = try #require(Self.taken(handoff, start: 9_600))
        #expect(prediction.endsOnAudio)
        worker.remove(handoff)
        #expect(worker.streamCount == 0)
    }
}
