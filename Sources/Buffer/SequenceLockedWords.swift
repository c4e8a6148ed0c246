import Synchronization

/// Four 64-bit words that one thread publishes together and others read as a consistent copy
/// without locks (a sequence lock: a reader retries while a publish is in progress, which takes a
/// few stores). The publishing types (`PublishedTimeline`, `PublishedDeviceSchedule`) give the
/// words their meaning.
///
/// Thread: one publisher; readers on any thread. Lock-free, non-allocating.
public final class SequenceLockedWords: Sendable {
    /// The words, as one value.
    public typealias Words = (Int64, Int64, Int64, Int64)

    /// What one read found.
    public enum Read {
        case unpublished, consistent(Words), torn
    }

    private let sequence = Atomic<UInt64>(0)
    private let first = Atomic<Int64>(0), second = Atomic<Int64>(0), third = Atomic<Int64>(0), fourth = Atomic<Int64>(0)

    /// Makes words with nothing published.
    public init() {}

    /// Publishes new words. Thread: the one publisher.
    public func publish(_ words: Words) {
        beginPublish()
        endPublish(words)
    }

    /// Marks a publish in progress (the sequence odd). Split from `endPublish` so that tests can
    /// hold a publish open, as a preempted publisher would.
    func beginPublish() {
        sequence.store(sequence.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
    }

    /// Stores `words` and ends the publish in progress.
    func endPublish(_ words: Words) {
        first.store(words.0, ordering: .relaxed)
        second.store(words.1, ordering: .relaxed)
        third.store(words.2, ordering: .relaxed)
        fourth.store(words.3, ordering: .relaxed)
        sequence.store(sequence.load(ordering: .relaxed) &+ 1, ordering: .releasing)
    }

    /// The latest words, nil before the first publish, retrying while a publish is in progress
    /// — at most `attempts` times, then nil as well (`.torn` is never returned when `attempts`
    /// is nil: it waits the publish out).
    public func read(attempts: Int? = nil) -> Read {
        var tries = 0
        while true {
            let read = readOnce()
            guard case .torn = read else { return read }
            tries += 1
            if let attempts, tries >= attempts { return .torn }
        }
    }

    /// One read: torn when a publish was in progress or overlapped it.
    private func readOnce() -> Read {
        let before = sequence.load(ordering: .acquiring)
        if before == 0 { return .unpublished }
        if before & 1 == 1 { return .torn }
        let words = (first.load(ordering: .relaxed), second.load(ordering: .relaxed), third.load(ordering: .relaxed),
                     fourth.load(ordering: .relaxed))
        atomicMemoryFence(ordering: .acquiring)
        return sequence.load(ordering: .relaxed) == before ? .consistent(words) : .torn
    }
}
