import Core
import Synchronization

/// The player's latency: the one it moves to (`target`, set by whoever chooses it — the
/// command line, or the arrival-driven choice of `--latency auto`) and the one in force (where
/// playback has slewed to so far; every stream plays at it, so they stay aligned).
///
/// Thread: `target` is set on a normal thread (ingest) and read by playback (RT); `inForce` is
/// stored by playback (RT) and read anywhere. Lock-free, non-allocating.
public final class PlaybackLatency: Sendable {
    private let targetNanoseconds: Atomic<Int64>
    private let inForceNanoseconds: Atomic<Int64>

    /// A latency of `initial`, in force at once.
    public init(_ initial: Nanoseconds) {
        targetNanoseconds = Atomic(initial.rawValue)
        inForceNanoseconds = Atomic(initial.rawValue)
    }

    /// The latency playback moves to.
    public var target: Nanoseconds {
        get { Nanoseconds(targetNanoseconds.load(ordering: .relaxed)) }
        set { targetNanoseconds.store(newValue.rawValue, ordering: .relaxed) }
    }

    /// The latency every sample is played at now.
    public var inForce: Nanoseconds {
        get { Nanoseconds(inForceNanoseconds.load(ordering: .relaxed)) }
        set { inForceNanoseconds.store(newValue.rawValue, ordering: .relaxed) }
    }
}
