import Synchronization

/// A level that one thread sets and any thread reads.
///
/// Thread: any. Lock-free, non-allocating.
public final class AtomicGauge: Sendable {
    private let level = Atomic<Int>(0)

    /// Makes a gauge at zero.
    public init() {}

    /// Sets the level (relaxed: it orders nothing else).
    @inlinable public func set(_ value: Int) { store(value) }

    @usableFromInline func store(_ value: Int) { level.store(value, ordering: .relaxed) }

    /// The current level.
    public var value: Int { level.load(ordering: .relaxed) }
}
