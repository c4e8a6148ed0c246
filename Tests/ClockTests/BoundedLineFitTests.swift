@testable import Clock
import Testing

/// The set-membership line fit: the centre of every line within each point's bound.
@Suite struct BoundedLineFitTests {
    typealias Point = BoundedLineFit.Point

    @Test func pointsAtTheEdgesOfTheirBoundsAreCentredOnTheTrueLine() throws {
        // y = 40 + 0.002·x, the points alternately at +bound and −bound: the set of lines that fit
        // is symmetric about the true one, so its centre is the true line.
        let points = (0..<9).map { index -> Point in
            let x = Double(index - 8) * 1_000_000
            return Point(segment: 0, x: x, y: 40 + 0.002 * x + (index.isMultiple(of: 2) ? 100 : -100), bound: 100)
        }
        let fit = try #require(BoundedLineFit(points: points, slopeGuess: 0.0021, reach: 0.001))
        #expect(abs(fit.slope - 0.002) < 1e-9)
        #expect(abs(fit.offsets[0].value - 40) < 1)
    }

    @Test func pointsNoLineCanPassWithinGiveNoFit() {
        // Three collinear x with the middle point 3 bounds off the line through the others.
        let points = [Point(segment: 0, x: -2_000, y: 0, bound: 1), Point(segment: 0, x: -1_000, y: 6, bound: 1),
                      Point(segment: 0, x: 0, y: 0, bound: 1)]
        #expect(BoundedLineFit(points: points, slopeGuess: 0, reach: 1) == nil)
    }

    @Test func segmentsKeepTheirOwnOffsetsAndShareTheSlope() throws {
        // Two runs of the same slope 10 µs apart: each keeps its offset, the slope is common.
        let points = (0..<6).map { index -> Point in
            let x = Double(index - 5) * 1_000_000_000
            let segment = index < 3 ? 0 : 1
            return Point(segment: segment, x: x, y: 1e-4 * x + (segment == 1 ? 10_000 : 0), bound: 0.5)
        }
        let fit = try #require(BoundedLineFit(points: points, slopeGuess: 0, reach: 1e-3))
        #expect(abs(fit.slope - 1e-4) < 1e-9)
        #expect(fit.offsets.map(\.segment) == [0, 1])
        #expect(abs(fit.offsets[1].value - 10_000) < 1)
        #expect(abs(fit.offsets[0].value) < 1)
    }
}
