import Synchronization

/// A count that one thread adds to and any thread reads.
///
/// Thread: any. Lock-free, non-allocating.
public final class AtomicCounter: Sendable {
    private let count = Atomic<Int>(0)

    /// Makes a counter at zero.
    public init() {}

    /// Adds `amount` (relaxed: counters order nothing else).
    @inlinable public func add(_ amount: Int = 1) { increment(amount) }

    /// Subtracts `amount`.
    @inlinable public func subtract(_ amount: Int = 1) { increment(-amount) }

    @usableFromInline func increment(_ amount: Int) { count.add(amount, ordering: .relaxed) }

    /// The current count.
    public var value: Int { count.load(ordering: .relaxed) }
}
