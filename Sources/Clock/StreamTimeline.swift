import Core

/// A stream's smoothed mapping from sample index to time, from its frames' noisy timestamps.
///
/// A stream is a continuous run of samples: frame *k* starts where frame *k − 1* ended, lost
/// frames included (by `seq`, or by snapping the stamp to a whole number of frames). The stamps
/// are observations of a straight line, time = anchor + index × period; the line is the middle of
/// the thinnest band that holds the recent observations (a minimax fit), which for bounded stamp
/// jitter converges like 1/N rather than the 1/√N of least squares. A stamp further than the
/// discontinuity threshold from the line re-anchors the stream there. The fitted period is the
/// stream's real sample rate against the stamps' clock, which playback resamples to; the nominal
/// rate is kept while the stamps cannot tell it from the fitted one (``Configuration/nominalRateMargin``).
/// A stamp behind the stream by more than the threshold (a sender's clock stepped back) re-anchors
/// the time, not the samples: they go on from where the stream was, so the indices written to a
/// ring only move back within a reorder. Stamps must lie within ±2^62 ns; indices stay within
/// ±``indexLimit``, and a frame that would take them further is ``Placement/outOfRange``.
/// Thread: the stream's ingest thread; playback reads copies of ``line``. Pure logic.
public struct StreamTimeline: Sendable {
    /// The largest sample index magnitude a stream reaches: 2^52, 186 years at 768 kHz, and
    /// exact in a `Double`.
    public static let indexLimit: Int64 = 1 << 52
    /// The longest frame placed, in sample frames: more than a 64 MiB line holds.
    public static let maximumFrameLength = 1 << 26

    /// Tuning; the defaults suit frames of 1–20 ms.
    public struct Configuration: Sendable {
        /// A stamp this far from the line is a real discontinuity: the stream re-anchors there.
        public var discontinuityThreshold = Nanoseconds.milliseconds(5)
        /// Observations older than this (stamp time) leave the fit.
        public var window = Nanoseconds.seconds(60)
        /// At most this many observations are kept (the oldest leave first).
        public var maximumObservations = 8_192
        /// The fitted rate stays within this of the nominal one.
        public var maximumDriftPPM = 1_000.0
        /// The nominal rate is kept while the band at it is no wider than the thinnest band by more
        /// than this many times the thinnest band's width over the number of stamps (about its
        /// precision): a rate off by less than that is not told from the stamps' jitter.
        public var nominalRateMargin = 8.0
        /// Below this span of observations only the offset is fitted; the rate stays nominal.
        public var minimumSpanForRate = Nanoseconds.seconds(2)
        /// The line is refitted when the stamps have moved on by this much, or by this share of
        /// the span the last fit covered when that is more: a fit over a long span moves little
        /// with a little more of it, and refits are most of a stream's ingest cost (a full 60 s
        /// window is refitted once a second, not ten times).
        public var refitInterval = Nanoseconds.milliseconds(100), refitShareOfSpan = 1.0 / 60
        /// Observations in a block whose hulls' vertices a refit reuses (at most an eighth of
        /// ``maximumObservations``); 1 builds the hulls from every point at each refit.
        public var hullBlockLength = 128

        /// The defaults.
        public init() {}
    }

    /// The fitted line: time(index) = anchorTime + (index − anchorIndex) × period.
    public struct Line: Hashable, Sendable {
        public var anchorIndex: Int64
        public var anchorTime: Nanoseconds
        /// Nanoseconds per sample frame.
        public var period: Double

        /// Makes a line through `anchorTime` at `anchorIndex`.
        public init(anchorIndex: Int64, anchorTime: Nanoseconds, period: Double) {
            self.anchorIndex = anchorIndex
            self.anchorTime = anchorTime
            self.period = period
        }

        /// The time of sample frame `index` (within ±``StreamTimeline/indexLimit``); nil beyond
        /// ±2^62 ns.
        public func time(ofSample index: Int64) -> Nanoseconds? {
            let limit = StreamTimeline.indexLimit.magnitude
            guard index.magnitude <= limit, anchorIndex.magnitude <= limit, anchorTime.isWithinNetworkLimit,
                  let offset = Nanoseconds(rounding: Double(index - anchorIndex) * period),
                  case let time = Nanoseconds(anchorTime.rawValue + offset.rawValue), time.isWithinNetworkLimit
            else { return nil }
            return time
        }

        /// The (fractional) sample index at `time`.
        public func sampleIndex(at time: Nanoseconds) -> Double {
            let (elapsed, overflow) = time.rawValue.subtractingReportingOverflow(anchorTime.rawValue)
            return Double(anchorIndex) + (overflow ? Double(time.rawValue) - Double(anchorTime.rawValue) : Double(elapsed)) / period
        }
    }

    /// Where a frame went.
    public enum Placement: Hashable, Sendable {
        /// On the line; its first sample frame has this index.
        case placed(firstSample: Int64)
        /// Off the line by more than the threshold: the line now starts at this frame.
        case reanchored(firstSample: Int64)
        /// Its stamp is beyond ±2^62 ns, or its place beyond ±``StreamTimeline/indexLimit``:
        /// dropped, nothing learnt. The stream cannot go on past it and should restart.
        case outOfRange

        /// The frame's first sample index; nil when it is out of range.
        public var firstSample: Int64? {
            switch self {
            case .placed(let index), .reanchored(let index): index
            case .outOfRange: nil
            }
        }
    }

    private struct Observation: Sendable {
        var index: Int64
        var stamp: Int64
    }

    public let configuration: Configuration
    /// The sender's declared rate.
    public let nominalRate: SampleRate
    /// The current line (before the first frame: anchored at zero, nominal rate).
    public private(set) var line: Line
    /// Times the stream re-anchored.
    public private(set) var reanchors = 0
    private var observations: [Observation] = []
    private var oldest = 0
    private var nextIndex: Int64?
    private var lastSequence: UInt64?
    private var lastFrameLength = 0
    private var lastFitStamp: Int64?
    /// The span of the stamps the last fit covered, ns.
    private var lastFitSpan: Int64 = 0
    /// The fit's points and their hulls, kept between refits.
    private var hulls: ConvexHulls
    /// Observations recorded since the last re-anchor; observation `serial` is kept at
    /// `observations[serial % maximumObservations]` until a later one takes its place.
    private var serial = 0
    /// The hulls' vertices of each full block of `blockLength` observations still kept, in
    /// order: a refit merges these few points (and the points of blocks the window cuts) instead
    /// of building the hulls from every point again — the hulls of the vertices are the hulls of
    /// the points.
    private var blocks: [Block] = []
    private var blockHulls: ConvexHulls
    private let blockLength: Int

    private struct Block: Sendable {
        var firstSerial: Int
        var oldestStamp: Int64
        var vertices: [Observation]
    }

    /// Makes an empty timeline for a stream at `nominalRate`.
    public init(nominalRate: SampleRate, configuration: Configuration = Configuration()) {
        self.nominalRate = nominalRate
        self.configuration = configuration
        line = Line(anchorIndex: 0, anchorTime: .zero, period: 1e9 / Double(nominalRate.hertz))
        observations.reserveCapacity(configuration.maximumObservations)
        hulls = ConvexHulls(capacity: configuration.maximumObservations)
        blockLength = max(1, min(configuration.hullBlockLength, configuration.maximumObservations / 8))
        blockHulls = ConvexHulls(capacity: blockLength)
    }

    /// The stream's sample rate measured against the stamps' clock, in hertz.
    public var measuredRate: Double { 1e9 / line.period }

    /// How much faster than nominal the sender's sample clock runs, in parts per million.
    public var driftPPM: Double { (nominalPeriod / line.period - 1) * 1e6 }

    private var nominalPeriod: Double { 1e9 / Double(nominalRate.hertz) }

    /// Places a frame of `sampleCount` sample frames stamped at `stamp` (already on this clock).
    public mutating func observe(stamp: Nanoseconds, sampleCount: Int, sequence: UInt64?) -> Placement {
        guard stamp.isWithinNetworkLimit, (0...Self.maximumFrameLength).contains(sampleCount) else { return .outOfRange }
        guard let expected = nextIndex else {
            line = Line(anchorIndex: 0, anchorTime: stamp, period: line.period)
            record(Observation(index: 0, stamp: stamp.rawValue), count: sampleCount, sequence: sequence)
            return .placed(firstSample: 0)
        }
        guard var index = place(stamp: stamp, sampleCount: sampleCount, sequence: sequence, expected: expected),
              index.magnitude <= Self.indexLimit.magnitude - UInt64(sampleCount)
        else { return .outOfRange }
        let error = line.time(ofSample: index).map { stamp.rawValue - $0.rawValue }
        if error.map({ abs($0) > configuration.discontinuityThreshold.rawValue }) ?? true {
            // Behind the stream: its clock stepped back, its samples go on.
            index = max(index, expected)
            reanchors += 1
            observations.removeAll(keepingCapacity: true)
            oldest = 0
            serial = 0
            blocks.removeAll(keepingCapacity: true)
            line = Line(anchorIndex: index, anchorTime: stamp, period: line.period)
            lastFitStamp = stamp.rawValue
            lastFitSpan = 0
            record(Observation(index: index, stamp: stamp.rawValue), count: sampleCount, sequence: sequence)
            return .reanchored(firstSample: index)
        }
        record(Observation(index: index, stamp: stamp.rawValue), count: sampleCount, sequence: sequence)
        let interval = max(configuration.refitInterval.rawValue, Int64(Double(lastFitSpan) * configuration.refitShareOfSpan))
        if lastFitStamp.map({ stamp.rawValue - $0 >= interval }) ?? true { refit() }
        return .placed(firstSample: index)
    }

    /// The first sample index of a frame: after the previous one, lost frames counted by `seq`;
    /// without `seq` (or out of order), the stamp's position snapped to whole frames.
    /// Nil when the stamp puts it beyond ±2^62 (an absurd rate or stamp).
    private func place(stamp: Nanoseconds, sampleCount: Int, sequence: UInt64?, expected: Int64) -> Int64? {
        // Indices are within ``indexLimit`` and frames within it, and `seq` gaps below 10^6.
        if let sequence, let last = lastSequence, sequence > last, sequence - last < 1_000_000 {
            return expected + Int64(sequence - last - 1) * Int64(lastFrameLength)
        }
        let predicted = line.sampleIndex(at: stamp)
        guard predicted.magnitude < 0x1p62 else { return nil }
        guard sampleCount == lastFrameLength, sampleCount > 0 else { return Int64(predicted.rounded()) }
        let frames = ((predicted - Double(expected)) / Double(sampleCount)).rounded()
        return expected + Int64(frames) * Int64(sampleCount)
    }

    private mutating func record(_ observation: Observation, count: Int, sequence: UInt64?) {
        if observations.count < configuration.maximumObservations {
            observations.append(observation)
        } else {
            observations[oldest] = observation
            oldest = (oldest + 1) % observations.count
        }
        serial += 1
        if serial % blockLength == 0 { closeBlock(firstSerial: serial - blockLength) }
        if observation.index + Int64(count) > (nextIndex ?? .min) {
            nextIndex = observation.index + Int64(count)
            lastFrameLength = count
            if let sequence { lastSequence = sequence }
        }
    }

    /// Keeps the hulls' vertices of the block of observations from `firstSerial`, and lets go of
    /// blocks whose observations are no longer all kept.
    private mutating func closeBlock(firstSerial: Int) {
        blockHulls.removeAll()
        let first = observations[firstSerial % configuration.maximumObservations]
        var oldestStamp = Int64.max
        for offset in 0..<blockLength {
            let observation = observations[(firstSerial + offset) % configuration.maximumObservations]
            blockHulls.append(x: Double(observation.index - first.index), y: Double(observation.stamp - first.stamp), tag: offset)
            oldestStamp = min(oldestStamp, observation.stamp)
        }
        blockHulls.build()
        // The vertices' observations themselves (by tag): exact, whatever the coordinates rounded.
        var vertices: [Observation] = []
        vertices.reserveCapacity(blockHulls.lower.count + blockHulls.upper.count)
        for hull in [blockHulls.lower, blockHulls.upper] {
            for point in hull { vertices.append(observations[(firstSerial + point.tag) % configuration.maximumObservations]) }
        }
        let keptFrom = serial - observations.count
        blocks.removeAll { $0.firstSerial < keptFrom }
        blocks.append(Block(firstSerial: firstSerial, oldestStamp: oldestStamp, vertices: vertices))
    }

    /// The minimax line through the observations in the window (rate fitted once they span enough).
    private mutating func refit() {
        guard !observations.isEmpty else { return }
        var newest = Int64.min
        for index in observations.indices { newest = max(newest, observations[index].stamp) }
        lastFitStamp = newest
        let cutoff = newest - configuration.window.rawValue
        let reference = line.anchorIndex
        hulls.removeAll()
        var earliest = Int64.max
        var pointCount = 0
        func add(_ observation: Observation) {
            hulls.append(x: Double(observation.index - reference), y: Double(observation.stamp - newest))
        }
        // Every kept observation in the window, in order: a whole block in it by its vertices.
        var next = serial - observations.count
        var blockIndex = blocks.firstIndex { $0.firstSerial >= next } ?? blocks.endIndex
        while next < serial {
            if blockIndex < blocks.endIndex, blocks[blockIndex].firstSerial == next {
                let block = blocks[blockIndex]
                blockIndex += 1
                if block.oldestStamp >= cutoff {
                    for vertex in block.vertices { add(vertex) }
                    earliest = min(earliest, block.oldestStamp)
                    pointCount += blockLength
                    next += blockLength
                    continue
                }
            }
            let observation = observations[next % configuration.maximumObservations]
            if observation.stamp >= cutoff {
                add(observation)
                earliest = min(earliest, observation.stamp)
                pointCount += 1
            }
            next += 1
        }
        hulls.build()
        lastFitSpan = newest - earliest
        var period = line.period
        if newest - earliest >= configuration.minimumSpanForRate.rawValue {
            // The band's width is convex in the period: golden-section search within the allowed
            // drift, over the hulls' vertices (refits are most of a stream's ingest cost).
            var lower = nominalPeriod * (1 - configuration.maximumDriftPPM * 1e-6)
            var upper = nominalPeriod * (1 + configuration.maximumDriftPPM * 1e-6)
            func width(_ period: Double) -> Double { let band = hulls.band(slope: period); return band.high - band.low }
            let golden = (5.0.squareRoot() - 1) / 2
            var left = upper - golden * (upper - lower), right = lower + golden * (upper - lower)
            var leftWidth = width(left), rightWidth = width(right)
            for _ in 0..<50 {
                if leftWidth <= rightWidth {
                    upper = right; right = left; rightWidth = leftWidth
                    left = upper - golden * (upper - lower); leftWidth = width(left)
                } else {
                    lower = left; left = right; leftWidth = rightWidth
                    right = lower + golden * (upper - lower); rightWidth = width(right)
                }
            }
            period = (lower + upper) / 2
            // The nominal rate stands until the stamps rule it out: most senders derive their
            // sample clock from the clock they stamp with, and a fitted rate is noisier than none.
            let best = width(period)
            if width(nominalPeriod) - best <= configuration.nominalRateMargin * best / Double(pointCount) { period = nominalPeriod }
        }
        let (low, high) = hulls.band(slope: period)
        guard let middle = Nanoseconds(rounding: (low + high) / 2), case let anchorTime = Nanoseconds(newest + middle.rawValue),
              anchorTime.isWithinNetworkLimit
        else { return }
        line = Line(anchorIndex: reference, anchorTime: anchorTime, period: period)
    }
}
