import Foundation

/// The impulses a probe heard, with when each was played: what a probe in another process (the
/// multi-host bed's `RigRecorder`) hands back to the test.
public struct HeardImpulses: Codable, Sendable {
    /// One impulse.
    public struct Impulse: Codable, Sendable {
        /// When it was played, CLOCK_MONOTONIC nanoseconds of the recording host.
        public var time: Double
        /// Whether the JACK server had an xrun around it (its time says nothing of the player).
        public var disturbed: Bool
    }

    /// Every impulse heard, in order.
    public var impulses: [Impulse]
    /// Frames recorded.
    public var frames: Int
    /// Xruns the JACK server reported while recording.
    public var rigXruns: Int

    /// The impulses of `recording`.
    public init(_ recording: JackRig.Recording) {
        impulses = recording.onsets().map { Impulse(time: recording.pulseTime(near: $0), disturbed: recording.isDisturbed(at: $0)) }
        frames = recording.left.count
        rigXruns = recording.rigXrunFrames.count
    }
}
