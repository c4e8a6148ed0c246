/// The line through points each known to lie within a bound of it: the centroid of every line
/// that keeps all of them within their bounds (set-membership estimation).
///
/// Least squares knows a line only as well as the jitter's variance allows (its error shrinks like
/// 1/√N); hard bounds on each point narrow the set of possible lines like 1/N. With jitter spread
/// evenly within the bounds every line in that set is equally likely, so its centroid is the
/// estimate with the least mean square error at every x at once.
/// Points come in segments that share the slope and have offsets of their own (a re-lock starts a
/// segment); older segments narrow the slope, and the slope is the newest segment's centroid's.
/// Pure arithmetic; x and y in nanoseconds as doubles, x best measured from where predictions are made.
struct BoundedLineFit: Sendable {
    struct Point: Sendable {
        var segment: Int
        var x: Double
        var y: Double
        /// The line passes within this of y at x.
        var bound: Double
    }

    /// The line's slope.
    var slope: Double
    /// Per segment (ascending ids), the line's value at x = 0.
    var offsets: [(segment: Int, value: Double)]

    /// Fits `points`; nil when no line keeps every point within its bound, or when the lines that
    /// do reach slopes further than `reach` from `slopeGuess` (the search box: make it generous).
    init?(points: [Point], slopeGuess: Double, reach: Double) {
        guard let first = points.map(\.x).min(), let last = points.map(\.x).max(), last > first, reach > 0 else { return nil }
        let span = last - first
        // Lines as (value at x = 0, step) with slope = slopeGuess + step / span: both in
        // nanoseconds, so the polygon stays well conditioned.
        let box = reach * span
        let segments = Set(points.map(\.segment)).sorted()
        var polygons: [Polygon] = []
        for id in segments {
            let rows = points.filter { $0.segment == id }
            let residuals = rows.map { $0.y - slopeGuess * $0.x }
            let extent = residuals.map(abs).max()! + box + 2 * rows.map(\.bound).max()!
            var polygon = Polygon(offsets: -extent...extent, steps: -box...box)
            for (row, residual) in zip(rows, residuals) {
                // residual − bound ≤ offset + step·x/span ≤ residual + bound
                polygon.clip(offsetFactor: 1, stepFactor: row.x / span, atMost: residual + row.bound)
                polygon.clip(offsetFactor: -1, stepFactor: -row.x / span, atMost: row.bound - residual)
            }
            guard let steps = polygon.steps, steps.lowerBound > -box * 0.999, steps.upperBound < box * 0.999 else { return nil }
            polygons.append(polygon)
        }
        // Every segment must allow the slope: each is cut to the steps all of them allow.
        let lowest = polygons.map { $0.steps!.lowerBound }.max()!, highest = polygons.map { $0.steps!.upperBound }.min()!
        guard lowest <= highest else { return nil }
        var centroids: [(offset: Double, step: Double)] = []
        for var polygon in polygons {
            polygon.clip(offsetFactor: 0, stepFactor: -1, atMost: -lowest)
            polygon.clip(offsetFactor: 0, stepFactor: 1, atMost: highest)
            guard let centroid = polygon.centroid else { return nil }
            centroids.append(centroid)
        }
        slope = slopeGuess + centroids.last!.step / span
        offsets = zip(segments, centroids).map { ($0, $1.offset) }
    }

    /// A convex polygon in the (offset, step) plane.
    private struct Polygon {
        var vertices: [(offset: Double, step: Double)]

        init(offsets: ClosedRange<Double>, steps: ClosedRange<Double>) {
            vertices = [(offsets.lowerBound, steps.lowerBound), (offsets.upperBound, steps.lowerBound),
                        (offsets.upperBound, steps.upperBound), (offsets.lowerBound, steps.upperBound)]
        }

        /// The steps its points take, nil when empty.
        var steps: ClosedRange<Double>? { vertices.isEmpty ? nil : vertices.map(\.step).min()!...vertices.map(\.step).max()! }

        /// Keeps the part where offsetFactor·offset + stepFactor·step ≤ atMost.
        mutating func clip(offsetFactor: Double, stepFactor: Double, atMost limit: Double) {
            func excess(_ vertex: (offset: Double, step: Double)) -> Double { offsetFactor * vertex.offset + stepFactor * vertex.step - limit }
            var kept: [(offset: Double, step: Double)] = []
            for (index, vertex) in vertices.enumerated() {
                let next = vertices[(index + 1) % vertices.count]
                let here = excess(vertex), there = excess(next)
                if here <= 0 { kept.append(vertex) }
                if (here < 0 && there > 0) || (here > 0 && there < 0) {
                    let fraction = here / (here - there)
                    kept.append((vertex.offset + fraction * (next.offset - vertex.offset), vertex.step + fraction * (next.step - vertex.step)))
                }
            }
            vertices = kept
        }

        /// The centre of its area (the mean of its vertices when it has next to none); nil when empty.
        var centroid: (offset: Double, step: Double)? {
            guard !vertices.isEmpty else { return nil }
            let mean = (offset: vertices.map(\.offset).reduce(0, +) / Double(vertices.count),
                        step: vertices.map(\.step).reduce(0, +) / Double(vertices.count))
            var area = 0.0, offset = 0.0, step = 0.0
            for (index, vertex) in vertices.enumerated() {
                let next = vertices[(index + 1) % vertices.count]
                let (x0, y0, x1, y1) = (vertex.offset - mean.offset, vertex.step - mean.step, next.offset - mean.offset, next.step - mean.step)
                let cross = x0 * y1 - x1 * y0
                area += cross
                offset += (x0 + x1) * cross
                step += (y0 + y1) * cross
            }
            guard abs(area) > 1e-12 else { return mean }
            return (mean.offset + offset / (3 * area), mean.step + step / (3 * area))
        }
    }
}
