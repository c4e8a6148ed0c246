@testable import Clock
import Core
import Testing

/// The hulls that band fits search over: they must give the same band as every point does.
@Suite struct ConvexHullsTests {
    /// The band over all points, the way a fit without hulls computes it.
    func bruteForceBand(_ points: [(x: Double, y: Double)], slope: Double) -> (low: Double, high: Double) {
        (points.map { $0.y - slope * $0.x }.min()!, points.map { $0.y - slope * $0.x }.max()!)
    }

    @Test func theHullsGiveEveryPointsBandForAnySlope() {
        var generator = SeededRandom(seed: 11)
        for round in 0..<20 {
            // Stamps like a stream's: a line with jitter, in arrival order with some reordered.
            var points = (0..<(50 + 40 * round)).map { index -> (x: Double, y: Double) in
                let x = Double(index * 480)
                return (x, x * 20_833.3 + (Double.random(in: 0..<1, using: &generator) - 0.5) * 2e6)
            }
            for _ in 0..<round { points.swapAt(Int.random(in: points.indices, using: &generator), Int.random(in: points.indices, using: &generator)) }
            var hulls = ConvexHulls(capacity: points.count)
            for point in points { hulls.append(x: point.x, y: point.y) }
            hulls.build()
            #expect(hulls.lower.count + hulls.upper.count < points.count)
            for slope in [20_800.0, 20_833.3, 20_850.0, 20_833.3 + (Double.random(in: 0..<1, using: &generator) - 0.5) * 100] {
                let (expected, actual) = (bruteForceBand(points, slope: slope), hulls.band(slope: slope))
                #expect(abs(actual.low - expected.low) < 1e-3 && abs(actual.high - expected.high) < 1e-3, "round \(round), slope \(slope)")
            }
        }
    }

    @Test func collinearAndRepeatedPointsKeepTheirBand() {
        var hulls = ConvexHulls(capacity: 8)
        for x in [3.0, 0, 1, 2, 2, 3] { hulls.append(x: x, y: 5 + 2 * x) }
        hulls.append(x: 1, y: 9)
        hulls.build()
        let band = hulls.band(slope: 2)
        #expect(band.low == 5 && band.high == 7)
        hulls.removeAll()
        hulls.append(x: 4, y: 1)
        hulls.build()
        #expect(hulls.band(slope: 3) == (low: -11, high: -11))
    }
}
