import Core

/// What the sender has done so far: the progress line and the benchmark read it.
public struct SenderStatistics: Sendable {
    /// `jdat` frames handed to the output (UDP frames before impairments).
    public var framesSent = 0
    /// Frames not sent because the receiver was unreachable.
    public var framesDropped = 0
    /// Sample frames sent.
    public var samplesSent: Int64 = 0
    /// `clock_echo`s sent in answer to probes.
    public var probesAnswered = 0
    /// The latest calibration: reported GPU − CPU, nanoseconds.
    public var calibrationOffset: Int64 = 0
    /// The latest calibration's `max_deviation`, nanoseconds.
    public var calibrationDeviation: Double = 0
    /// Send-time errors (actual − intended) of the most recent frames, at most `sendErrorCapacity`.
    public private(set) var sendErrors: [Nanoseconds] = []

    /// How many recent send errors are kept (memory stays bounded however long it runs).
    public static let sendErrorCapacity = 65_536
    private var nextSendError = 0

    /// Records one frame's send-time error.
    public mutating func recordSendError(_ error: Nanoseconds) {
        if sendErrors.count < Self.sendErrorCapacity {
            sendErrors.append(error)
        } else {
            sendErrors[nextSendError] = error
        }
        nextSendError = (nextSendError + 1) % Self.sendErrorCapacity
    }

    /// The `fraction` quantile (0…1) of the kept send errors.
    public func sendErrorQuantile(_ fraction: Double) -> Nanoseconds? {
        guard !sendErrors.isEmpty else { return nil }
        let sorted = sendErrors.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction + 0.5))]
    }
}
