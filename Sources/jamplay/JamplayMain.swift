import Foundation

/// The process's entry: the command runs on Swift's task pool while the main thread waits for
/// it. (An `async` main would park the main thread in `dispatch_main`, whose exit of the main
/// thread valgrind cannot follow: the whole player could not be measured under callgrind.)
@main
enum JamplayMain {
    static func main() {
        StopSignals.start()
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            await Jamplay.runCommandLine()
            finished.signal()
        }
        finished.wait()
    }
}
