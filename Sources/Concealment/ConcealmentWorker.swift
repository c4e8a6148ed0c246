import Buffer
import Core
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Prepares the predictions of streams' gaps ahead of playback, on a thread of its own (neither
/// the ingest event loop nor the playback thread): each stream's next gap is predicted when a
/// frame is overdue, or when a frame arrives after a gap, and handed to playback in the stream's
/// ``PreparedConcealment``.
///
/// The thread sleeps until the earliest moment a stream's next frame would be overdue, or until
/// ``gapRevealed()`` wakes it; with no stream it sleeps until one is added. It runs at a lower
/// priority than the rest of the player (``niceness``).
/// Thread: `start`, `stop`, `add` and `remove` from any thread; ``gapRevealed()`` from any
/// (ingest calls it).
public final class ConcealmentWorker: Sendable {
    /// How it predicts.
    public let settings: ConcealmentSettings
    /// Predictions made, forward and two-sided together.
    public let predictions = AtomicCounter()
    private let streams = Mutex<[ObjectIdentifier: StreamConcealer]>([:])
    private let wakeup = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let running = Atomic<Bool>(false)
    private let clock: any MonotonicClock

    /// A worker that predicts with `settings`, telling time by `clock`.
    public init(settings: ConcealmentSettings, clock: any MonotonicClock = SystemMonotonicClock()) {
        self.settings = settings
        self.clock = clock
    }

    /// Starts the thread.
    public func start() {
        guard !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { context in
            let worker = Unmanaged<ConcealmentWorker>.fromOpaque(context!).takeRetainedValue()
            worker.run()
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<ConcealmentWorker>.fromOpaque(context).release()
            running.store(false, ordering: .releasing)
            return
        }
        pthread_detach(thread)
    }

    /// Stops the thread and waits for it.
    public func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        wakeup.signal()
        finished.wait()
    }

    /// Conceals the gaps of the stream `handoff` brings (if it has room for predictions), its
    /// memory reserved from `budget`; false when it has none or the budget refuses it.
    @discardableResult
    public func add(_ handoff: StreamHandoff, budget: BufferBudget? = nil) -> Bool {
        guard let prepared = handoff.concealment else { return false }
        let bytes = StreamConcealer.byteCount(channels: handoff.channels, rate: handoff.sampleRate, settings: settings)
        if let budget, !budget.reserve(bytes) { return false }
        let concealer = StreamConcealer(handoff, prepared: prepared, settings: settings)
        streams.withLock { $0[ObjectIdentifier(handoff)] = concealer }
        wakeup.signal()
        return true
    }

    /// Stops concealing `handoff`'s gaps, returning its memory to `budget`.
    public func remove(_ handoff: StreamHandoff, budget: BufferBudget? = nil) {
        let removed = streams.withLock { $0.removeValue(forKey: ObjectIdentifier(handoff)) }
        if let removed { budget?.release(removed.byteCount) }
    }

    /// Wakes the thread: a frame came after a gap, which can now be predicted from both sides.
    public func gapRevealed() {
        wakeup.signal()
    }

    /// How many streams it conceals.
    public var streamCount: Int { streams.withLock { $0.count } }

    /// How much less than the player's other threads this one is scheduled (its nice value): on
    /// a busy box, receiving frames matters more than predicting the ones that did not come.
    public static let niceness: Int32 = 10

    /// The thread: each pass serves every stream, then sleeps until the earliest it asked for.
    private func run() {
        defer { finished.signal() }
        CurrentThread.name("concealment")
        // On Linux the nice value is the calling thread's own (NPTL), not the process's.
        setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Self.niceness)
        while running.load(ordering: .acquiring) {
            let now = clock.now()
            let next = streams.withLock { streams -> Nanoseconds? in
                var earliest: Nanoseconds?
                for stream in streams.values {
                    let made = stream.predictionsMade
                    let wanted = stream.service(now: now)
                    predictions.add(stream.predictionsMade - made)
                    earliest = min(earliest ?? wanted, wanted)
                }
                return earliest
            }
            if let next {
                let wait = max(0, min((next - clock.now()).rawValue, 1_000_000_000))
                _ = wakeup.wait(timeout: .now() + .nanoseconds(Int(wait)))
            } else {
                wakeup.wait()
            }
        }
    }
}
