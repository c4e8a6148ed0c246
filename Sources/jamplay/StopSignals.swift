import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT, taken by one thread of their own that sleeps in `sigwait` (the signals are
/// blocked in every other thread from the process's start): the first stops the player
/// gracefully — or, before it has started, as soon as it has — and a second ends the process at
/// once. Nothing polls: an idle player's threads sleep until the device or the network wakes them.
enum StopSignals {
    private enum Reaction {
        /// Another command (`lint`, `devices`): a signal ends the process, as by default.
        case exit
        /// The player is starting: a signal is remembered.
        case remember(requested: Bool)
        /// The player runs under this service group: a signal shuts it down gracefully.
        case shutDown(ServiceGroup)
    }

    private static let reaction = Mutex(Reaction.exit)
    private static let signals: sigset_t = {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        return set
    }()

    /// Blocks the signals in this thread (and so in every thread it starts) and starts the one
    /// that waits for them. Call first thing in `main`, before any other thread exists.
    static func start() {
        var blocked = signals
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        var thread = pthread_t()
        pthread_create(&thread, nil, { _ in
            var count = 0
            while true {
                var waited = StopSignals.signals
                var number: Int32 = 0
                guard sigwait(&waited, &number) == 0 else { continue }
                count += 1
                StopSignals.react(to: number, count: count)
            }
        }, nil)
        pthread_detach(thread)
    }

    /// From now on a signal is remembered until ``run(_:)`` hands over the service group.
    static func rememberUntilRunning() {
        reaction.withLock { $0 = .remember(requested: false) }
    }

    /// Shuts `group` down on the next signal (at once, if one came while the player started).
    static func run(_ group: ServiceGroup) {
        let requested = reaction.withLock { reaction in
            defer { reaction = .shutDown(group) }
            if case .remember(let requested) = reaction { return requested }
            return false
        }
        if requested { Task { await group.triggerGracefulShutdown() } }
    }

    private static func react(to number: Int32, count: Int) {
        if count >= 2 { _exit(128 + number) }
        let group: ServiceGroup? = reaction.withLock { reaction in
            switch reaction {
            case .exit: _exit(128 + number)
            case .remember: reaction = .remember(requested: true); return nil
            case .shutDown(let group): return group
            }
        }
        if let group { Task { await group.triggerGracefulShutdown() } }
    }
}
