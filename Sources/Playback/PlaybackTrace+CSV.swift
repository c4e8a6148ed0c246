import Foundation
import Realtime

/// `--trace-timing`'s file.
extension PlaybackTrace {
    /// Writes the periods recorded so far as CSV. Thread: any but playback.
    public func write(to path: String) throws {
        var text = "written,mixed_at_ns,first_heard_at_ns,status_time_ns,delay_frames,frame_period_ns,stream_error_frames,stream_trim,written_at_ns\n"
        for entry in recorded {
            text += "\(entry.written),\(entry.mixedAt),\(entry.firstHeardAt),\(entry.statusTime),\(entry.delayFrames),"
                + "\(entry.framePeriod),\(entry.streamError),\(entry.streamTrim),\(entry.writtenAt)\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
