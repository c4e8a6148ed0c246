import Core

/// Converts a session's GPU timestamps to its CPU clock, from its calibration blocks.
///
/// One block gives the protocol's original rule, CPU time = GPU time − (gpu − cpu), exactly. More
/// blocks are fitted, offset and drift, by weighted least squares over a sliding window (weights
/// from `max_deviation`), with outliers rejected against a robust scale; when every block in use
/// gives `max_deviation` and some line keeps each within it, the fit is the centre of those lines
/// instead (``BoundedLineFit``: twice as close for jitter spread within the bounds). A block far from the
/// fit's prediction (a GPU reset, a sender restart) re-locks at once: it starts a new segment
/// whose offset is its own, while the drift stays fitted over all segments (the oscillator did not
/// change) until the new one has enough blocks to stand alone. If the next block agrees with the
/// old fit instead, the jump was an outlier and the old fit returns.
/// Counters narrower than 64 bits are unwrapped on blocks and frames alike.
/// Thread: the session's ingest thread; others read ``status`` copies. Pure logic: time is passed in.
public struct SessionCalibration: Sendable {
    /// Tuning; the defaults suit senders that calibrate about once a second.
    public struct Configuration: Sendable {
        /// Blocks kept for the fit.
        public var windowBlocks = 64
        /// Blocks older than this (GPU time before the newest) leave the fit.
        public var windowSpan = Nanoseconds.seconds(300)
        /// A block this far from the prediction re-locks the session.
        public var relockThreshold = Nanoseconds.milliseconds(1)
        /// Largest drift assumed when only the offset is known (widens the re-lock test).
        public var maximumSkewPPM = 1_000.0
        /// The deviation assumed for blocks without `max_deviation`.
        public var defaultDeviation = Nanoseconds(1_000)
        /// Residuals beyond this many robust standard deviations are outliers.
        public var outlierSigmas = 4.0
        /// Once the segment after a re-lock has this many blocks, older segments leave the fit.
        public var segmentHandover = 8

        /// The defaults.
        public init() {}
    }

    /// How far the calibration has got.
    public enum Mode: String, Sendable {
        /// No block yet: GPU-stamped frames cannot be aligned.
        case uncalibrated
        /// One usable block: the offset alone.
        case offsetOnly = "offset-only"
        /// Offset and drift fitted over several blocks.
        case drift
    }

    /// What happened to a block.
    public enum BlockOutcome: Hashable, Sendable {
        case accepted
        /// Rejected by the robust fit; it stays out.
        case outlier
        /// Far from the prediction: the session re-locked on it.
        case relocked
        /// Not usable: a timestamp out of range for its unit, or a non-positive tick period.
        case invalid
    }

    /// A snapshot for status pages and metrics.
    public struct Status: Hashable, Sendable {
        public var mode: Mode
        /// GPU − CPU at the newest block (the protocol's offset), in nanoseconds.
        public var offset: Nanoseconds
        /// How much faster the GPU clock runs than the CPU clock, in parts per million.
        public var skewPPM: Double
        /// Weighted RMS of the fit's residuals over the blocks in use.
        public var residual: Nanoseconds
        /// Blocks in the fit (outliers excluded).
        public var blocksUsed: Int
        /// Blocks rejected as outliers so far.
        public var outliersRejected: Int
        /// Times the session re-locked.
        public var relocks: Int
        /// When the newest block arrived (receiver's clock).
        public var lastBlockReceivedAt: Nanoseconds?

        /// Time since the newest block, nil before the first.
        public func age(now: Nanoseconds) -> Nanoseconds? { lastBlockReceivedAt.map { now - $0 } }
    }

    /// One block in the fit: times in nanoseconds, GPU time relative to the session's epoch.
    private struct Point: Sendable {
        var gpu: Int64
        var cpu: Int64
        var weight: Double
        /// The block's `max_deviation` in nanoseconds, nil when it gave none: the true line passes
        /// within this of the point.
        var bound: Double?
        /// Blocks between two re-locks share a segment: an offset of their own, the drift in common.
        var segment: Int
        var isOutlier = false
    }

    /// Per segment: y(x) = meanY + slope × (x − meanX), where x = GPU ns − referenceGPU and
    /// y = (CPU − GPU) − referenceY. Predictions use the newest segment.
    private struct Fit: Sendable {
        struct Segment: Sendable {
            var id: Int
            var meanX: Double
            var meanY: Double
        }

        var referenceGPU: Int64
        var referenceY: Int64
        var segments: [Segment]
        var slope: Double
        var residual: Double
        var pointsUsed: Int

        /// y at `gpu` on `segment` (the newest when nil or gone). GPU times are within ±2^62.
        func y(atGPU gpu: Int64, segment: Int? = nil) -> Double {
            guard let newest = segments.last else { return 0 }
            let line = segment.flatMap { id in segments.last { $0.id == id } } ?? newest
            return line.meanY + slope * (Double(gpu - referenceGPU) - line.meanX)
        }

        /// CPU − GPU at `gpu` on the newest segment, in whole nanoseconds; nil when a hostile
        /// fit puts it beyond ±2^62.
        func difference(atGPU gpu: Int64) -> Int64? {
            guard let y = Nanoseconds(rounding: y(atGPU: gpu)) else { return nil }
            let difference = referenceY + y.rawValue
            return Nanoseconds(difference).isWithinNetworkLimit ? difference : nil
        }
    }

    public let configuration: Configuration
    private var unit: TimestampUnit?
    private var unwrapper = CounterUnwrapper(bits: 64)
    /// The first unwrapped GPU reading: GPU nanoseconds count from here, so tick conversions stay exact.
    private var epoch: Int64 = 0
    private var points: [Point] = []
    private var fit: Fit?
    /// The window and fit before a re-lock, kept for one block in case the jump was an outlier.
    private var beforeRelock: (points: [Point], fit: Fit)?
    private var segment = 0
    private var outliersRejected = 0
    private var relocks = 0
    private var lastBlockReceivedAt: Nanoseconds?

    /// Makes an uncalibrated session.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Whether GPU-stamped frames can be aligned yet (a block has been taken).
    public var isCalibrated: Bool { fit != nil }

    /// The current state, for others to read. Every figure is finite, whatever the blocks held.
    public var status: Status {
        let newest = points.last
        let skew = fit.map { -$0.slope / (1 + $0.slope) * 1e6 } ?? 0
        return Status(
            mode: fit == nil ? .uncalibrated : ((fit?.pointsUsed ?? 0) >= 2 && fit?.slope != 0 ? .drift : .offsetOnly),
            offset: Nanoseconds(newest.flatMap { point in fit.map { protocolOffset(atGPU: point.gpu, fit: $0) } } ?? 0),
            skewPPM: skew.isFinite ? skew : 0,
            residual: Nanoseconds(rounding: fit?.residual ?? 0) ?? .networkLimit,
            blocksUsed: fit?.pointsUsed ?? 0, outliersRejected: outliersRejected, relocks: relocks,
            lastBlockReceivedAt: lastBlockReceivedAt)
    }

    /// GPU − CPU as the sender's counter reads it (the epoch added back), rounded to nanoseconds;
    /// 0 when it cannot be told.
    private func protocolOffset(atGPU gpu: Int64, fit: Fit) -> Int64 {
        guard let difference = fit.difference(atGPU: gpu), let epoch = unit?.nanoseconds(ofGPUTimestamp: epoch) else { return 0 }
        return epoch.rawValue - difference  // CPU − GPU since the epoch: both within ±2^62
    }

    /// Takes a calibration block that arrived at `receivedAt` (receiver's clock). A block outside
    /// what jamnet allows (a timestamp beyond ±2^62 ns, a tick period that is not positive, a
    /// deviation over a second, a counter width outside 1…64) is `invalid` and changes nothing.
    @discardableResult
    public mutating func add(_ block: CalibrationBlock, receivedAt: Nanoseconds) -> BlockOutcome {
        if case .ticks(let period) = block.unit, !(period.isFinite && period > 0) { return .invalid }
        guard (1...64).contains(block.counterBits), Nanoseconds(block.gpuTimestamp).isWithinNetworkLimit,
              block.unit.nanoseconds(ofGPUTimestamp: block.gpuTimestamp) != nil,
              block.unit.nanoseconds(ofCPUTimestamp: block.cpuTimestamp) != nil
        else { return .invalid }
        let bound = block.maxDeviation.map { $0 * Double(block.unit.integerNanoseconds ?? 1) }
        if let bound, !(0...1e9).contains(bound) { return .invalid }
        if unit != block.unit || unwrapper.bits != block.counterBits { restart(unit: block.unit, bits: block.counterBits, epoch: block.gpuTimestamp) }
        // The offset too within ±2^62, so that differences of offsets fit.
        guard let gpu = unwrapper.unwrap(block.gpuTimestamp).flatMap(gpuNanoseconds), let cpu = cpuNanoseconds(block.cpuTimestamp),
              Nanoseconds(cpu - gpu).isWithinNetworkLimit
        else { return .invalid }
        lastBlockReceivedAt = receivedAt
        let deviation = bound ?? Double(configuration.defaultDeviation.rawValue)
        var point = Point(gpu: gpu, cpu: cpu, weight: 1 / max(deviation, 1) / max(deviation, 1), bound: bound, segment: segment)

        if let previous = beforeRelock {
            beforeRelock = nil
            // One block after a re-lock: if it agrees with the old fit and not the new, the jump was an outlier.
            if !isJump(point, from: previous.fit), let current = fit, isJump(point, from: current) {
                outliersRejected += 1
                relocks -= 1
                points = previous.points
                segment -= 1
                point.segment = segment
                return insert(point)
            }
        } else if let current = fit, isJump(point, from: current) {
            beforeRelock = (points, current)
            relocks += 1
            segment += 1
            point.segment = segment
            _ = insert(point)
            return .relocked
        }
        return insert(point)
    }

    /// The CPU time of a frame's `timestamp_gpu`, nil before the first block (or out of range).
    public mutating func cpuTime(forGPUTimestamp reading: Int64) -> Nanoseconds? {
        gpuTime(forGPUTimestamp: reading).flatMap { cpuTime(forGPUTime: $0) }
    }

    /// A frame's `timestamp_gpu` as GPU nanoseconds since the session's epoch: unwrapped and in
    /// nanoseconds, but not yet mapped to the CPU clock. Stream timelines are fitted here, so that a
    /// better calibration later moves every sample at once. Nil before the first block, and for a
    /// reading beyond ±2^62 ns from the epoch.
    public mutating func gpuTime(forGPUTimestamp reading: Int64) -> Nanoseconds? {
        guard fit != nil else { return nil }
        return unwrapper.unwrap(reading).flatMap(gpuNanoseconds).map { Nanoseconds($0) }
    }

    /// The CPU time of a GPU time from ``gpuTime(forGPUTimestamp:)``, by the current fit; nil
    /// beyond ±2^62 ns.
    public func cpuTime(forGPUTime time: Nanoseconds) -> Nanoseconds? {
        guard let fit, time.isWithinNetworkLimit, let difference = fit.difference(atGPU: time.rawValue) else { return nil }
        let cpu = Nanoseconds(time.rawValue + difference)
        return cpu.isWithinNetworkLimit ? cpu : nil
    }

    /// The GPU time (as from ``gpuTime(forGPUTimestamp:)``) at a CPU time: the inverse of
    /// ``cpuTime(forGPUTime:)``.
    public func gpuTime(forCPUTime time: Nanoseconds) -> Nanoseconds? {
        guard let fit, time.isWithinNetworkLimit else { return nil }
        // cpu = gpu + difference(gpu): start from the newest block's difference and refine; each
        // step shrinks the error by the drift (ppm).
        var gpu = fit.referenceGPU
        for _ in 0..<3 {
            guard let difference = fit.difference(atGPU: gpu), case let next = Nanoseconds(time.rawValue - difference),
                  next.isWithinNetworkLimit else { return nil }
            gpu = next.rawValue
        }
        return Nanoseconds(gpu)
    }

    /// A frame's `timestamp_cpu` in nanoseconds (in the session's unit; nanoseconds before any
    /// block); nil beyond ±2^62 ns.
    public func cpuTime(forCPUTimestamp reading: Int64) -> Nanoseconds? {
        cpuNanoseconds(reading).map { Nanoseconds($0) }
    }

    // MARK: - Fitting

    private mutating func insert(_ point: Point) -> BlockOutcome {
        points.append(point)
        let newest = point.gpu
        points.removeAll { newest &- $0.gpu > configuration.windowSpan.rawValue }
        if points.count > configuration.windowBlocks { points.removeFirst(points.count - configuration.windowBlocks) }
        if points.count(where: { $0.segment == segment }) >= configuration.segmentHandover { points.removeAll { $0.segment != segment } }
        refit()
        if points.last?.isOutlier == true {
            outliersRejected += 1
            return .outlier
        }
        return .accepted
    }

    /// Weighted least squares, then up to two rounds of rejecting residuals beyond the robust scale.
    private mutating func refit() {
        for index in points.indices { points[index].isOutlier = false }
        guard let reference = points.last, var current = solve(reference: reference) else { fit = nil; return }
        guard points.count >= 4 else { fit = current; return }
        for _ in 0..<2 {
            let residuals = points.map { abs(Double($0.cpu - $0.gpu - current.referenceY) - current.y(atGPU: $0.gpu, segment: $0.segment)) }
            let scale = 1.4826 * Self.median(residuals)
            var changed = false
            for index in points.indices {
                let deviation = 1 / points[index].weight.squareRoot()
                let isOutlier = residuals[index] > max(configuration.outlierSigmas * scale, 3 * deviation)
                if isOutlier != points[index].isOutlier { points[index].isOutlier = isOutlier; changed = true }
            }
            guard changed, let refitted = solve(reference: reference) else { break }
            current = refitted
        }
        fit = centeredWithinBounds(current) ?? current
    }

    /// The centre of the lines that keep every block within its `max_deviation`, when all blocks in
    /// use give one and such a line exists; nil otherwise (least squares stands).
    private func centeredWithinBounds(_ fit: Fit) -> Fit? {
        let used = points.filter { !$0.isOutlier }
        // x relative to the newest block, where predictions are made; timestamps are whole
        // nanoseconds and tick conversions round, hence half a nanosecond more on each bound.
        let rows = used.compactMap { point in
            point.bound.map {
                BoundedLineFit.Point(segment: point.segment, x: Double(point.gpu - fit.referenceGPU),
                                     y: Double(point.cpu - point.gpu - fit.referenceY), bound: $0 + 0.5)
            }
        }
        guard fit.slope != 0, rows.count >= 3, rows.count == used.count else { return nil }
        // Least squares may miss the lines that fit by more than their own spread: search wide.
        guard let bounded = BoundedLineFit(points: rows, slopeGuess: fit.slope, reach: configuration.maximumSkewPPM * 1e-6) else { return nil }
        var centered = fit
        centered.slope = bounded.slope
        centered.segments = bounded.offsets.map { Fit.Segment(id: $0.segment, meanX: 0, meanY: $0.value) }
        let residuals = zip(rows, used).map { $0.y - centered.y(atGPU: $1.gpu, segment: $0.segment) }
        centered.residual = (residuals.map { $0 * $0 }.reduce(0, +) / Double(rows.count)).squareRoot()
        return centered
    }

    /// Weighted least squares with one offset per segment and one slope for all; nil when no
    /// block is left to fit. Points' times are within ±2^62 ns, so their differences fit.
    private func solve(reference: Point) -> Fit? {
        let referenceY = reference.cpu - reference.gpu
        func x(_ point: Point) -> Double { Double(point.gpu - reference.gpu) }
        func y(_ point: Point) -> Double { Double(point.cpu - point.gpu - referenceY) }
        var segments: [Fit.Segment] = []
        var totalWeight = 0.0, sxx = 0.0, sxy = 0.0, syy = 0.0, used = 0
        for id in Set(points.map(\.segment)).sorted() {
            var weights = 0.0, sumX = 0.0, sumY = 0.0
            for point in points where point.segment == id && !point.isOutlier {
                weights += point.weight
                sumX += point.weight * x(point)
                sumY += point.weight * y(point)
                used += 1
            }
            guard weights > 0 else { continue }
            let segment = Fit.Segment(id: id, meanX: sumX / weights, meanY: sumY / weights)
            for point in points where point.segment == id && !point.isOutlier {
                let dx = x(point) - segment.meanX, dy = y(point) - segment.meanY
                sxx += point.weight * dx * dx
                sxy += point.weight * dx * dy
                syy += point.weight * dy * dy
            }
            totalWeight += weights
            segments.append(segment)
        }
        // Blocks less than a millisecond apart (in weighted spread) say nothing about drift.
        let slope = sxx > 0 && sxx / totalWeight > 1e12 ? sxy / sxx : 0
        guard !segments.isEmpty else { return nil }
        let residual = used > segments.count ? (max(0, syy - slope * sxy) / totalWeight).squareRoot() : 0
        return Fit(referenceGPU: reference.gpu, referenceY: referenceY, segments: segments, slope: slope, residual: residual, pointsUsed: used)
    }

    /// Whether `point` lies beyond the re-lock threshold from what `fit` predicts on its newest segment.
    private func isJump(_ point: Point, from fit: Fit) -> Bool {
        let predicted = fit.y(atGPU: point.gpu)
        let actual = Double(point.cpu - point.gpu - fit.referenceY)
        var tolerance = Double(configuration.relockThreshold.rawValue)
        if fit.slope == 0 {
            // Drift unknown: allow the largest plausible skew over the time since the fit's newest block.
            tolerance += configuration.maximumSkewPPM * 1e-6 * abs(Double(point.gpu &- fit.referenceGPU))
        }
        return abs(actual - predicted) > tolerance
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    // MARK: - Units

    private mutating func restart(unit: TimestampUnit, bits: Int, epoch: Int64) {
        self.unit = unit
        unwrapper = CounterUnwrapper(bits: bits)
        _ = unwrapper.unwrap(epoch)
        self.epoch = epoch
        points = []
        fit = nil
        beforeRelock = nil
    }

    /// GPU nanoseconds since the epoch of an unwrapped reading (both within ±2^62); nil beyond ±2^62.
    private func gpuNanoseconds(_ unwrapped: Int64) -> Int64? {
        unit?.nanoseconds(ofGPUTimestamp: unwrapped - epoch)?.rawValue
    }

    /// CPU nanoseconds of a CPU reading in the session's unit (ticks mean nanoseconds there); nil
    /// beyond ±2^62.
    private func cpuNanoseconds(_ reading: Int64) -> Int64? {
        (unit ?? .nanoseconds).nanoseconds(ofCPUTimestamp: reading)?.rawValue
    }
}
