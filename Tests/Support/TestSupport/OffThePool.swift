import Foundation

/// Runs `work`, which blocks (a socket read, a process wait), on a thread of its own rather than
/// on Swift concurrency's few shared threads, where it would stall every other test's tasks.
public func offThePool<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: work()) }
    }
}
