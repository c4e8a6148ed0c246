import Core

/// The same impulses as two boxes played them: how far apart, and how far each was from the
/// sender's timeline (stamp + latency).
///
/// The sender puts an impulse on every multiple of `grid` of its CPU clock (`jamsend --signal
/// impulse:…`), which is this host's clock, so each impulse's due time here is that multiple +
/// the latency, and impulses of two boxes with the same multiple are the same impulse. Impulses
/// heard across a JACK xrun, and those of the first `settle` (the clock mappings converging), are
/// left out.
public struct InterBoxSkew: Sendable {
    /// Box A − box B per impulse both heard, ns.
    public var skews: [Double]
    /// Per box: played − due per impulse, ns.
    public var presentationErrors: [[Double]]

    /// Compares boxes 0 and 1 of `played`.
    public init(_ played: [MultiHostBed.Played], latency: Nanoseconds, grid: Nanoseconds = .milliseconds(100), settle: Nanoseconds = .seconds(3)) {
        let gridNanoseconds = Double(grid.rawValue), latencyNanoseconds = Double(latency.rawValue)
        let perBox: [[Int64: Double]] = played.map { box in
            let kept = box.heard.impulses.filter { !$0.disturbed }
            guard let first = kept.first else { return [:] }
            let firstIndex = Int64(((first.time - latencyNanoseconds) / gridNanoseconds).rounded())
            let settled = firstIndex + Int64(Double(settle.rawValue) / gridNanoseconds)
            var errors: [Int64: Double] = [:]
            for impulse in kept {
                let index = Int64(((impulse.time - latencyNanoseconds) / gridNanoseconds).rounded())
                if index >= settled { errors[index] = impulse.time - latencyNanoseconds - Double(index) * gridNanoseconds }
            }
            return errors
        }
        presentationErrors = perBox.map { $0.sorted { $0.key < $1.key }.map(\.value) }
        skews = perBox.count < 2 ? [] : perBox[0].sorted { $0.key < $1.key }.compactMap { key, a in perBox[1][key].map { a - $0 } }
    }

    /// The `fraction` quantile (0…1) of `values`, nearest rank; nil when empty.
    public static func quantile(_ values: [Double], _ fraction: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))]
    }

    /// Median and p99 of |A − B|, ns.
    public var medianSkew: Double? { Self.quantile(skews.map(abs), 0.5) }
    public var p99Skew: Double? { Self.quantile(skews.map(abs), 0.99) }
    /// Median of A − B (signed), ns: a constant skew's value and direction.
    public var medianSignedSkew: Double? { Self.quantile(skews, 0.5) }
}
