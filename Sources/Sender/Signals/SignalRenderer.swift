/// Renders the samples of one frame: on the GPU (`VulkanSignalRenderer`) or on the CPU.
public protocol SignalRenderer {
    /// Writes `frameCount × channels` interleaved samples; returns when the GPU ran the work, if it
    /// did (raw device time, nanoseconds).
    mutating func render(_ parameters: SignalFrameParameters, into samples: UnsafeMutableBufferPointer<Float>) throws -> RenderTimes?
}

/// When the GPU started and finished a frame's dispatch, on its raw timestamp clock (nanoseconds).
public struct RenderTimes: Hashable, Sendable {
    /// `vkCmdWriteTimestamp` before the dispatch.
    public var started: Int64
    /// `vkCmdWriteTimestamp` after it.
    public var finished: Int64

    /// Makes the pair.
    public init(started: Int64, finished: Int64) {
        self.started = started
        self.finished = finished
    }
}
