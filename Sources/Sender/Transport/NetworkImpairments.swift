import Core

/// Faults `jamsend` applies to its UDP frames for tests: `--loss` (in runs of `--loss-burst`),
/// `--reorder`, `--duplicate`, `--jitter` (from `--jitter-after` on).
public struct NetworkImpairments: Hashable, Sendable {
    /// The fraction of frames not sent.
    public var loss: Double
    /// Lost frames come in runs of this many (1: each on its own); `loss` stays the fraction lost.
    public var lossBurst: Int
    /// Probability that a frame is held back behind the next one.
    public var reorder: Double
    /// Probability that a frame is sent twice.
    public var duplicate: Double
    /// Each datagram is delayed by a uniform time in [0, jitter]...
    public var jitter: Nanoseconds
    /// ...once this long has passed since the first (a network whose jitter rises mid-stream).
    public var jitterAfter: Nanoseconds

    /// Makes impairments; the defaults impair nothing.
    public init(loss: Double = 0, lossBurst: Int = 1, reorder: Double = 0, duplicate: Double = 0, jitter: Nanoseconds = .zero,
                jitterAfter: Nanoseconds = .zero) {
        self.loss = loss
        self.lossBurst = max(1, lossBurst)
        self.reorder = reorder
        self.duplicate = duplicate
        self.jitter = jitter
        self.jitterAfter = jitterAfter
    }

    /// Whether anything is impaired.
    public var isNone: Bool { loss == 0 && reorder == 0 && duplicate == 0 && jitter == .zero }
}

/// Holds datagrams until the time their impairments say they leave, in that order.
///
/// Deterministic for a seed, so a test can repeat a fault pattern exactly. Thread: one owner.
public struct ImpairedDatagramQueue {
    private struct Pending {
        var due: Nanoseconds
        var order: Int
        var bytes: [UInt8]
    }

    /// The faults applied.
    public let impairments: NetworkImpairments
    /// Frames dropped by `loss`.
    public private(set) var lost = 0
    /// Frames held back by `reorder`.
    public private(set) var reordered = 0
    /// Extra copies sent by `duplicate`.
    public private(set) var duplicated = 0
    private var random: SeededRandomNumberGenerator
    /// Frames still to lose in the current run.
    private var lossRunLeft = 0
    /// The chance that a frame sent outside a run starts one: with runs of n, a start chance q
    /// loses q·n frames for every q·n + (1 − q) sent or lost, which is `loss` when
    /// q = loss / (n − loss·(n − 1)).
    private let lossRunStart: Double
    private var pending: [Pending] = []
    private var submitted = 0
    /// When the first datagram was submitted.
    private var firstSubmit: Nanoseconds?

    /// Makes an empty queue.
    public init(impairments: NetworkImpairments, seed: UInt64) {
        self.impairments = impairments
        random = SeededRandomNumberGenerator(seed: seed)
        let runLength = Double(impairments.lossBurst)
        lossRunStart = impairments.loss / (runLength - impairments.loss * (runLength - 1))
    }

    /// Queues a frame submitted at `now`; `spacing` is the time to the next frame (a reordered
    /// frame waits one and a half of it, so the next one overtakes it).
    public mutating func submit(_ bytes: [UInt8], at now: Nanoseconds, spacing: Nanoseconds) {
        let first = firstSubmit ?? now
        firstSubmit = first
        let jittering = now - first >= impairments.jitterAfter
        if lossRunLeft == 0 && random.chance(lossRunStart) { lossRunLeft = impairments.lossBurst }
        if lossRunLeft > 0 {
            lossRunLeft -= 1
            lost += 1
            return
        }
        var due = now + delay(jittering)
        if random.chance(impairments.reorder) {
            reordered += 1
            due += spacing + Nanoseconds(spacing.rawValue / 2)
        }
        enqueue(bytes, due: due)
        if random.chance(impairments.duplicate) {
            duplicated += 1
            enqueue(bytes, due: now + delay(jittering))
        }
    }

    /// When the next datagram is due, if any is waiting.
    public var nextDue: Nanoseconds? { pending.first?.due }

    /// Removes and returns the next datagram due at or before `now`.
    public mutating func popDue(at now: Nanoseconds) -> [UInt8]? {
        guard let first = pending.first, first.due <= now else { return nil }
        return pending.removeFirst().bytes
    }

    /// Every waiting datagram, in order (at the end of a stream).
    public mutating func drain() -> [[UInt8]] {
        defer { pending.removeAll() }
        return pending.map(\.bytes)
    }

    private mutating func delay(_ jittering: Bool) -> Nanoseconds {
        guard jittering, impairments.jitter > .zero else { return .zero }
        return Nanoseconds(Int64.random(in: 0...impairments.jitter.rawValue, using: &random))
    }

    private mutating func enqueue(_ bytes: [UInt8], due: Nanoseconds) {
        submitted += 1
        let entry = Pending(due: due, order: submitted, bytes: bytes)
        let index = pending.firstIndex { ($0.due, $0.order) > (entry.due, entry.order) } ?? pending.endIndex
        pending.insert(entry, at: index)
    }
}
