/// The lower and upper convex hulls of a set of points, for band fits: the smallest and largest
/// `y − slope × x` over the points, for any slope, are found on the hulls' vertices, so a search
/// over slopes looks at a few dozen vertices instead of every point.
///
/// Thread: its owner's. Its buffers are kept between builds, so rebuilding does not allocate
/// once they have grown (sorting may).
struct ConvexHulls: Sendable {
    struct Point: Sendable {
        var x: Double
        var y: Double
        /// The caller's name for the point (which observation it is), carried onto the hulls.
        var tag = 0
    }

    private var points: [Point] = []
    private(set) var lower: [Point] = []
    private(set) var upper: [Point] = []

    /// Makes empty hulls with room for `capacity` points.
    init(capacity: Int) {
        points.reserveCapacity(capacity)
        lower.reserveCapacity(capacity)
        upper.reserveCapacity(capacity)
    }

    /// Starts a new set of points.
    mutating func removeAll() {
        points.removeAll(keepingCapacity: true)
    }

    /// Adds a point to the set (in any order), named `tag`.
    mutating func append(x: Double, y: Double, tag: Int = 0) {
        points.append(Point(x: x, y: y, tag: tag))
    }

    /// How many points the set has.
    var count: Int { points.count }

    /// Builds both hulls of the points added since `removeAll` (Andrew's monotone chain).
    mutating func build() {
        // Nearly sorted already (points come in arrival order): the sort finds the runs.
        points.sort { $0.x < $1.x || ($0.x == $1.x && $0.y < $1.y) }
        lower.removeAll(keepingCapacity: true)
        upper.removeAll(keepingCapacity: true)
        for point in points {
            while lower.count >= 2, Self.cross(lower[lower.count - 2], lower[lower.count - 1], point) <= 0 { lower.removeLast() }
            lower.append(point)
        }
        for point in points.reversed() {
            while upper.count >= 2, Self.cross(upper[upper.count - 2], upper[upper.count - 1], point) <= 0 { upper.removeLast() }
            upper.append(point)
        }
    }

    /// The smallest and largest `y − slope × x` over the points (after `build`).
    func band(slope: Double) -> (low: Double, high: Double) {
        var low = Double.infinity, high = -Double.infinity
        for point in lower { low = min(low, point.y - slope * point.x) }
        for point in upper { high = max(high, point.y - slope * point.x) }
        return (low, high)
    }

    /// Positive when `a → b → c` turns counter-clockwise.
    private static func cross(_ a: Point, _ b: Point, _ c: Point) -> Double {
        (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
    }
}
