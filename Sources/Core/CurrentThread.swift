#if canImport(Glibc)
import Glibc
#endif

/// The calling thread. Thread: any (each call is about the caller).
public enum CurrentThread {
    /// Names the calling thread (at most 15 bytes), so that `top -H` and /proc show what it does
    /// (Glibc's module lacks `pthread_setname_np`; this is what it does).
    public static func name(_ name: StaticString) {
        let file = open("/proc/thread-self/comm", O_WRONLY)
        guard file >= 0 else { return }
        _ = write(file, name.utf8Start, min(name.utf8CodeUnitCount, 15))
        close(file)
    }
}
