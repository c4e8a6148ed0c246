#if canImport(Glibc)
import Glibc
#endif

/// A source of the current time, injected where a component reads the clock itself (the clock
/// engine takes times as arguments instead, so its tests need no clock at all).
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

    /// Sleeps until `deadline` on this clock (`clock_nanosleep`, absolute: no drift however long
    /// the caller took); false when a signal woke it first. Non-allocating.
    @discardableResult
    public func sleep(until deadline: Nanoseconds) -> Bool {
        var time = timespec(tv_sec: Int(deadline.rawValue / 1_000_000_000), tv_nsec: Int(deadline.rawValue % 1_000_000_000))
        return clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &time, nil) != EINTR
    }
}

