import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A source of the current time, injected so that clock and buffer logic can be tested without
/// sleeping (tests pass a ``ManualClock``).
public protocol MonotonicClock: Sendable {
    /// Now, in nanoseconds on this clock.
    func now() -> Nanoseconds
}

/// `CLOCK_MONOTONIC`: the clock every presentation time in jamplay is on.
///
/// Thread: any. Non-allocating (one system call).
public struct SystemMonotonicClock: MonotonicClock {
    /// Makes the clock.
    public init() {}

    /// `clock_gettime(CLOCK_MONOTONIC)`.
    public func now() -> Nanoseconds {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Nanoseconds(Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
    }
}

/// A clock that moves only when told: for deterministic tests.
///
/// Thread: any (atomic).
public final class ManualClock: MonotonicClock {
    private let time: Synchronization.Atomic<Int64>

    /// Makes a clock reading `start`.
    public init(_ start: Nanoseconds = .zero) { time = .init(start.rawValue) }

    public func now() -> Nanoseconds { Nanoseconds(time.load(ordering: .acquiring)) }

    /// Moves the clock forward by `duration`.
    public func advance(by duration: Nanoseconds) { time.add(duration.rawValue, ordering: .acquiringAndReleasing) }
}
