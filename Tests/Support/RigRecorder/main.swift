import Foundation
import JackProbe
import RigSupport

// The probe as a process of its own, for a test host that is not the test process: the
// multi-host bed runs one in each box's network and time namespaces, beside that box's JACK
// server and player. It connects to the player's ports, says "recording" on standard output,
// records for the given time and writes what it heard as JSON (times on this namespace's
// CLOCK_MONOTONIC).
//
//     RigRecorder CLIENT-NAME PORT-PATTERN SECONDS OUTPUT.json

let arguments = CommandLine.arguments
guard arguments.count == 5, let seconds = Double(arguments[3]), seconds > 0, seconds < 300 else {
    FileHandle.standardError.write(Data("usage: RigRecorder CLIENT-NAME PORT-PATTERN SECONDS OUTPUT.json\n".utf8))
    exit(64)
}
guard jack_probe_start(arguments[1], Int(48_000 * (seconds + 10))) == 0 else {
    FileHandle.standardError.write(Data("RigRecorder: no JACK server (JACK_DEFAULT_SERVER=\(ProcessInfo.processInfo.environment["JACK_DEFAULT_SERVER"] ?? "default"))\n".utf8))
    exit(69)
}
var connected = 0
for _ in 0..<100 {
    connected = Int(jack_probe_connect(arguments[2]))
    if connected == 2 { break }
    usleep(100_000)
}
guard connected == 2 else {
    FileHandle.standardError.write(Data("RigRecorder: no two output ports match \(arguments[2]) within 10 s\n".utf8))
    exit(69)
}
jack_probe_restart()
FileHandle.standardOutput.write(Data("recording\n".utf8))
usleep(UInt32(seconds * 1e6))
let recording = JackRig.record()
let heard = HeardImpulses(recording)
try JSONEncoder().encode(heard).write(to: URL(fileURLWithPath: arguments[4]))
jack_probe_stop()
