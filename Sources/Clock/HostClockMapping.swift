import Core

/// Maps a sender's CPU clock onto this host's `CLOCK_MONOTONIC`.
///
/// A sender on this host shares the clock: the identity. A remote sender that answers
/// `clock_probe`s is measured two-way (NTP): each exchange gives an offset whose error is at most
/// half its round trip, so the exchanges with the smallest round trips are kept and a line is
/// fitted through them (offset and drift). A sender that never answers gets a one-way estimate:
/// the smallest (arrival − send time) per second, its lower envelope fitted for drift; the
/// unknown path delay stays in the mapping and so becomes part of the latency. The send time is
/// what the sender stamped as it sent — a calibration block's `timestamp_cpu` — and only from a
/// sender that sends no blocks its frames' stamps, which are its audio's time, not its sending's.
/// Thread: the session's ingest thread; others read ``status``. Pure logic: times are passed in.
public struct HostClockMapping: Sendable {
    /// Which estimate is in use.
    public enum Mode: String, Sendable {
        case sameHost = "same-host"
        case twoWay = "two-way"
        case oneWay = "one-way"
        /// Remote, and nothing measured yet.
        case unknown
    }

    /// Tuning.
    public struct Configuration: Sendable {
        /// Samples kept: the best exchange of each ``exchangeBucket``, or one-way per-second minima.
        public var window = 128
        /// An exchange counts in the fit by how close its round trip is to the smallest: one
        /// longer by this fraction of the smallest (or ``roundTripSlack``, whichever is larger)
        /// weighs a quarter, twice that a ninth, and so on (1 / (1 + excess / scale)²), so
        /// exchanges that queueing made one-sided hardly count, yet the drift is fitted over the
        /// whole window rather than through the few best.
        public var roundTripTolerance = 0.5
        /// The least scale of the weights above the smallest round trip.
        public var roundTripSlack = Nanoseconds.microseconds(50)
        /// Exchanges are reduced to the one with the smallest round trip per bucket of this length.
        public var exchangeBucket = Nanoseconds.seconds(1)
        /// An exchange further from the fit than half its round trip, the fit's error bound and
        /// this cannot come from the clocks the fit describes; ``stepExchanges`` such in a row
        /// mean the sender's clock stepped, and the fit starts again from them. (Larger than any
        /// drift the fit could miss before it fits the drift: 100 ppm over 10 s.)
        public var stepSlack = Nanoseconds.milliseconds(1)
        public var stepExchanges = 3
        /// Exchanges slower than this are dropped: a probe answered after a second says nothing
        /// worth fitting (its offset is uncertain by half of it), and a run of only such exchanges
        /// (a stalled machine) must not become the estimate.
        public var maximumRoundTrip = Nanoseconds.seconds(1)
        /// Below this span of samples only the offset is fitted, not the drift.
        public var minimumSpanForDrift = Nanoseconds.seconds(10)
        /// One-way observations are reduced to their minimum per bucket of this length.
        public var oneWayBucket = Nanoseconds.seconds(1)

        /// The defaults.
        public init() {}
    }

    /// A snapshot for status pages and metrics.
    public struct Status: Hashable, Sendable {
        public var mode: Mode
        /// Local time − sender time now (one-way: includes the smallest path delay).
        public var offset: Nanoseconds
        /// How much faster the sender's clock runs than ours, in parts per million.
        public var skewPPM: Double
        /// The smallest round trip seen (two-way only).
        public var bestRoundTrip: Nanoseconds?
        /// Samples behind the estimate (two-way: the best exchange of each bucket).
        public var samples: Int
        /// Exchanges taken so far, kept or not.
        public var exchangesTaken: Int
        /// How far off the mapping may be: two-way, half the round trip of the exchanges it is
        /// fitted through (their weighted mean: what any asymmetry of the paths can move it by);
        /// zero on this host; nil one-way, where the path delay, which one way cannot see, is in
        /// the offset.
        public var errorBound: Nanoseconds?
        /// How far the samples it is fitted through lie from it (root mean square): the jitter
        /// the estimate averages.
        public var residual: Nanoseconds
    }

    /// A measured difference (local − sender) at a local time.
    private struct Sample: Sendable {
        var local: Int64
        var difference: Int64
        /// Round trip (two-way) or 0 (one-way minima).
        var roundTrip: Int64
    }

    /// difference(local) = atReference + slope × (local − reference).
    private struct Fit: Sendable {
        var reference: Int64
        var atReference: Double
        var slope: Double
        /// How far the fitted samples lie from the line (root mean square, weighted), ns.
        var residual = 0.0
        /// How far off the line may be (two-way), ns.
        var errorBound = 0.0

        /// Nil when the fit (from hostile samples) puts it beyond ±2^62 ns.
        func difference(at local: Int64) -> Int64? {
            Nanoseconds(rounding: atReference + slope * (Double(local) - Double(reference)))?.rawValue
        }
    }

    public let configuration: Configuration
    private let isSameHost: Bool
    private var exchanges: [Sample] = []
    private var oneWayMinima: [Sample] = []
    private var exchangesTaken = 0
    /// Exchanges in a row that disagree with the fit (see ``Configuration/stepSlack``).
    private var stepped: [Sample] = []
    private var fit: Fit?

    /// Makes the mapping for a sender on this host (identity) or elsewhere (to be measured).
    public init(sameHost: Bool, configuration: Configuration = Configuration()) {
        isSameHost = sameHost
        self.configuration = configuration
    }

    /// The mode in use.
    public var mode: Mode {
        if isSameHost { return .sameHost }
        if !exchanges.isEmpty { return .twoWay }
        return oneWayMinima.isEmpty ? .unknown : .oneWay
    }

    /// The local time of a sender CPU time; nil while a remote sender is unmeasured, and beyond
    /// ±2^62 ns.
    public func localTime(forSenderTime time: Nanoseconds) -> Nanoseconds? {
        guard time.isWithinNetworkLimit else { return nil }
        if isSameHost { return time }
        guard let fit else { return nil }
        // The difference is a function of local time, which is what we look for: start from the
        // newest sample's difference and refine; each step shrinks the error by the drift (ppm).
        var local = fit.reference
        for _ in 0..<3 {
            guard let difference = fit.difference(at: local), case let next = Nanoseconds(time.rawValue + difference),
                  next.isWithinNetworkLimit else { return nil }
            local = next.rawValue
        }
        return Nanoseconds(local)
    }

    /// The sender CPU time at a local time: the inverse of ``localTime(forSenderTime:)``.
    public func senderTime(forLocalTime time: Nanoseconds) -> Nanoseconds? {
        guard time.isWithinNetworkLimit else { return nil }
        if isSameHost { return time }
        guard let difference = fit?.difference(at: time.rawValue), case let sender = Nanoseconds(time.rawValue - difference),
              sender.isWithinNetworkLimit else { return nil }
        return sender
    }

    /// A snapshot of the estimate.
    public var status: Status {
        let newest = (mode == .twoWay ? exchanges.last : oneWayMinima.last)?.local ?? 0
        let skew = -(fit?.slope ?? 0) * 1e6
        return Status(
            mode: mode, offset: Nanoseconds(isSameHost ? 0 : fit?.difference(at: newest) ?? 0),
            skewPPM: skew.isFinite ? skew : 0,
            bestRoundTrip: exchanges.map(\.roundTrip).min().map { Nanoseconds($0) },
            samples: mode == .twoWay ? exchanges.count : oneWayMinima.count, exchangesTaken: exchangesTaken,
            errorBound: isSameHost ? .zero : mode == .twoWay ? fit.flatMap { Nanoseconds(rounding: $0.errorBound) } : nil,
            residual: Nanoseconds(rounding: fit?.residual ?? 0) ?? .zero)
    }

    /// Takes one probe/echo exchange: t1 probe sent and t4 echo received (local), t2 probe
    /// received and t3 echo sent (sender). Exchanges with a negative round trip, or one over
    /// ``Configuration/maximumRoundTrip``, are dropped, as are times beyond ±2^62 ns and clocks
    /// further apart than that.
    public mutating func addExchange(probeSent t1: Nanoseconds, probeReceived t2: Nanoseconds, echoSent t3: Nanoseconds, echoReceived t4: Nanoseconds) {
        guard !isSameHost, [t1, t2, t3, t4].allSatisfy(\.isWithinNetworkLimit), t1 <= t4, t2 <= t3,
              case let apart = Nanoseconds(t2.rawValue - t1.rawValue), apart.isWithinNetworkLimit
        else { return }
        let roundTrip = (t4 - t1).rawValue - (t3 - t2).rawValue
        guard roundTrip >= 0, roundTrip <= configuration.maximumRoundTrip.rawValue else { return }
        // NTP: sender − local = ((t2 − t1) + (t3 − t4)) / 2 = (t2 − t1) − round trip / 2; we keep local − sender.
        let difference = roundTrip / 2 - apart.rawValue
        let sample = Sample(local: t4.rawValue, difference: difference, roundTrip: roundTrip)
        exchangesTaken += 1
        if !exchanges.isEmpty, let fit, let expected = fit.difference(at: sample.local),
           abs(Double(difference) - Double(expected)) > Double(roundTrip) / 2 + fit.errorBound + Double(configuration.stepSlack.rawValue) {
            // Held back until enough agree: one such exchange is a fluke, several a step.
            stepped.append(sample)
            guard stepped.count >= configuration.stepExchanges else { return }
            exchanges.removeAll()
            for sample in stepped { keep(sample) }
            stepped.removeAll()
        } else {
            stepped.removeAll()
            keep(sample)
        }
        refit()
    }

    /// Adds an exchange: the best of its bucket.
    private mutating func keep(_ sample: Sample) {
        let bucket = configuration.exchangeBucket.rawValue
        if let last = exchanges.last, last.local / bucket == sample.local / bucket {
            if sample.roundTrip < last.roundTrip { exchanges[exchanges.count - 1] = sample }
        } else {
            Self.append(sample, to: &exchanges, limit: configuration.window)
        }
    }

    /// Takes a line's send time on the sender's CPU clock and its local arrival time (used until
    /// exchanges exist).
    public mutating func addOneWay(senderTime: Nanoseconds, arrival: Nanoseconds) {
        guard !isSameHost, senderTime.isWithinNetworkLimit, arrival.isWithinNetworkLimit,
              case let difference = arrival.rawValue - senderTime.rawValue, Nanoseconds(difference).isWithinNetworkLimit
        else { return }
        let bucket = configuration.oneWayBucket.rawValue
        if let last = oneWayMinima.last, last.local / bucket == arrival.rawValue / bucket {
            guard difference < last.difference else { return }
            oneWayMinima[oneWayMinima.count - 1] = Sample(local: arrival.rawValue, difference: difference, roundTrip: 0)
        } else {
            Self.append(Sample(local: arrival.rawValue, difference: difference, roundTrip: 0), to: &oneWayMinima, limit: configuration.window)
        }
        if exchanges.isEmpty { refit() }
    }

    /// Forgets the one-way observations so far: they came from stamps that were not send times
    /// (frames), and from now on better ones (calibration blocks) come.
    public mutating func restartOneWay() {
        oneWayMinima.removeAll()
        if exchanges.isEmpty { refit() }
    }

    private static func append(_ sample: Sample, to samples: inout [Sample], limit: Int) {
        samples.append(sample)
        if samples.count > limit { samples.removeFirst(samples.count - limit) }
    }

    /// The fit: two-way, least squares through the exchanges weighted by their round trips; one
    /// way, the lower envelope of the minima (a line under every one of them, touching the
    /// lowest): a minimum is only ever raised by a line that waited before it left or on its way
    /// (a sender's first block is often read long before it is sent), never lowered, so the
    /// envelope is the path delay and an average would add every wait to it.
    private mutating func refit() {
        let chosen = exchanges.isEmpty ? oneWayMinima : exchanges
        guard let reference = chosen.max(by: { $0.local < $1.local })?.local else { fit = nil; return }
        let span = Double((chosen.map(\.local).max() ?? 0) - (chosen.map(\.local).min() ?? 0))
        let fitsDrift = span >= Double(configuration.minimumSpanForDrift.rawValue)
        guard !exchanges.isEmpty else {
            var next = Self.lowerEnvelope(chosen, reference: reference, fitsDrift: fitsDrift)
            next.residual = Self.residual(of: next, chosen, weights: Array(repeating: 1, count: chosen.count))
            fit = next
            return
        }
        let best = exchanges.reduce(Int64.max) { min($0, $1.roundTrip) }
        let scale = Double(max(Int64(Double(best) * configuration.roundTripTolerance), configuration.roundTripSlack.rawValue, 1))
        let weights = exchanges.map { 1 / ((1 + Double($0.roundTrip - best) / scale) * (1 + Double($0.roundTrip - best) / scale)) }
        let total = weights.reduce(0, +)
        // Differences from the first sample's, so that sums of squares keep their precision (in
        // Double: two differences from the wire can be further apart than Int64 holds).
        let base = exchanges[0].difference
        var meanX = 0.0, meanY = 0.0, meanRoundTrip = 0.0
        for (sample, weight) in zip(exchanges, weights) {
            meanX += weight * Double(sample.local - reference)
            meanY += weight * (Double(sample.difference) - Double(base))
            meanRoundTrip += weight * Double(sample.roundTrip)
        }
        meanX /= total
        meanY /= total
        var sxx = 0.0, sxy = 0.0
        for (sample, weight) in zip(exchanges, weights) {
            let dx = Double(sample.local - reference) - meanX
            sxx += weight * dx * dx
            sxy += weight * dx * ((Double(sample.difference) - Double(base)) - meanY)
        }
        let slope = fitsDrift && sxx > 0 ? sxy / sxx : 0
        var next = Fit(reference: reference, atReference: Double(base) + meanY - slope * meanX, slope: slope)
        next.residual = Self.residual(of: next, exchanges, weights: weights)
        // Each exchange is off by half its round trip at most: so is their weighted mean.
        next.errorBound = meanRoundTrip / total / 2
        fit = next
    }

    /// How far `samples` lie from `fit`: the root of their weighted mean square.
    private static func residual(of fit: Fit, _ samples: [Sample], weights: [Double]) -> Double {
        var squares = 0.0
        for (sample, weight) in zip(samples, weights) {
            let away = Double(sample.difference) - (fit.atReference + fit.slope * Double(sample.local - fit.reference))
            squares += weight * away * away
        }
        return (squares / max(weights.reduce(0, +), .leastNonzeroMagnitude)).squareRoot()
    }

    /// The line under every sample that is closest to them on average: the lower convex hull's
    /// edge above the samples' mean time (or, without drift, the lowest sample's level).
    private static func lowerEnvelope(_ samples: [Sample], reference: Int64, fitsDrift: Bool) -> Fit {
        let meanX = samples.reduce(0) { $0 + Double($1.local - reference) } / Double(max(1, samples.count))
        // Heights above the lowest sample, so that the hull's arithmetic keeps its precision (in
        // Double, as above).
        let base = samples.map(\.difference).min() ?? 0
        let points = samples.map { (x: Double($0.local - reference), y: Double($0.difference) - Double(base)) }.sorted { $0.x < $1.x }
        guard fitsDrift, points.count >= 2 else { return Fit(reference: reference, atReference: Double(base), slope: 0) }
        var hull: [(x: Double, y: Double)] = []
        for point in points {
            while hull.count >= 2, case let (a, b) = (hull[hull.count - 2], hull[hull.count - 1]),
                  (b.x - a.x) * (point.y - a.y) - (b.y - a.y) * (point.x - a.x) <= 0 {
                hull.removeLast()
            }
            hull.append(point)
        }
        for (a, b) in zip(hull, hull.dropFirst()) where b.x > a.x && meanX <= b.x {
            let slope = (b.y - a.y) / (b.x - a.x)
            return Fit(reference: reference, atReference: Double(base) + a.y - slope * a.x, slope: slope)
        }
        return Fit(reference: reference, atReference: Double(base), slope: 0)
    }
}
