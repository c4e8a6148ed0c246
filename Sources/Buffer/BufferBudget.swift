import Core
import Synchronization

/// The memory every stream's ring may take together (`--max-buffer`): a ring reserves its bytes
/// before it allocates them and returns them when it is freed, so what senders can make the player
/// hold is bounded by configuration, not by what they send.
///
/// Thread: any. Lock-free; never touched by the real-time thread (rings are made and freed on
/// normal threads).
public final class BufferBudget: Sendable {
    /// The most all rings may hold together.
    public let limit: ByteCount
    /// The most one ring may hold.
    public let perStreamLimit: ByteCount
    private let used = Atomic<Int>(0)

    /// Makes a budget of `limit` bytes in all, `perStreamLimit` (at most `limit`) for any one ring.
    public init(limit: ByteCount, perStreamLimit: ByteCount) {
        self.limit = limit
        self.perStreamLimit = min(perStreamLimit, limit)
    }

    /// Bytes reserved now.
    public var usedBytes: ByteCount { ByteCount(used.load(ordering: .relaxed)) }

    /// Reserves `bytes` for one ring; false (nothing reserved) when that is over the per-stream
    /// limit or would take the total over its limit.
    public func reserve(_ bytes: ByteCount) -> Bool {
        guard bytes.rawValue >= 0, bytes <= perStreamLimit else { return false }
        var current = used.load(ordering: .relaxed)
        while true {
            guard current <= limit.rawValue - bytes.rawValue else { return false }
            let (exchanged, original) = used.compareExchange(expected: current, desired: current + bytes.rawValue, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// Returns bytes a freed ring had reserved.
    public func release(_ bytes: ByteCount) {
        used.subtract(bytes.rawValue, ordering: .relaxed)
    }
}
