import Core
#if canImport(Glibc)
import Glibc
#endif

/// A thread for the playback loop: `SCHED_FIFO` at the asked priority when the system allows it,
/// otherwise normal priority (and `isRealtime` says so, for one warning); every signal blocked;
/// named `playback`.
///
/// Thread: created and joined by the playback supervisor.
package final class RealtimeThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    private var thread = pthread_t()
    /// Whether it got `SCHED_FIFO`.
    package let isRealtime: Bool

    /// Starts `body` on a new thread, real-time at `priority` (1…99) if permitted.
    package init(priority: Int32, _ body: @escaping () -> Void) {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        let entry: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { context in
            // No signal handler runs here (they may allocate or lock): the process's other threads take them.
            var signals = sigset_t()
            sigfillset(&signals)
            pthread_sigmask(SIG_BLOCK, &signals, nil)
            CurrentThread.name("playback")
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setinheritsched(&attributes, Int32(PTHREAD_EXPLICIT_SCHED))
        pthread_attr_setschedpolicy(&attributes, SCHED_FIFO)
        var parameters = sched_param()
        parameters.sched_priority = priority
        pthread_attr_setschedparam(&attributes, &parameters)
        if priority > 0 && pthread_create(&thread, &attributes, entry, context) == 0 {
            isRealtime = true
        } else {
            isRealtime = false
            precondition(pthread_create(&thread, nil, entry, context) == 0, "cannot create the playback thread")
        }
    }

    /// Waits for the body to return.
    package func join() { pthread_join(thread, nil) }
}
