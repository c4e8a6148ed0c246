/// What one line decoded to: a message, or the reason it was rejected.
public enum DecodedLine: Hashable, Sendable {
    /// A `jdat` frame; its samples are the first `sampleCount` of the caller's buffer, clipped to
    /// [−1, 1] (`clippedSampleCount` of them were outside).
    case audioFrame(AudioFrameHeader, sampleCount: Int, clippedSampleCount: Int)
    /// A `sync_calibration_block`.
    case syncCalibration(SyncCalibrationBlock)
    /// A `clock_probe` (jamnet/1.1).
    case clockProbe(ClockProbe)
    /// A `clock_echo` (jamnet/1.1).
    case clockEcho(ClockEcho)
    /// Not a message this receiver uses; counted by class.
    case rejected(LineRejection)

    /// The `session_id` the message names (nil for a rejected line, or when it names none).
    public var sessionID: String? {
        switch self {
        case .audioFrame(let header, _, _): header.sessionID
        case .syncCalibration(let block): block.sessionID
        case .clockProbe(let probe): probe.sessionID
        case .clockEcho(let echo): echo.sessionID
        case .rejected: nil
        }
    }

    /// The class counted for this line.
    public var lineClass: LineClass {
        if case .rejected(let rejection) = self { return rejection.lineClass }
        return .ok
    }
}
