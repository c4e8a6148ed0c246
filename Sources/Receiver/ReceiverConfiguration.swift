import Ingest
import Playback

/// Everything `jamplay --listen` runs with: where to listen, ingest limits, the device.
public struct ReceiverConfiguration: Sendable {
    /// `--listen`.
    public var listen: ListenAddress
    /// TCP and UDP listeners (either can be switched off).
    public var tcp = true, udp = true
    /// Ingest limits and timeouts.
    public var ingest = IngestConfiguration()
    /// Device, latency, priority.
    public var playback = PlaybackConfiguration()

    /// Makes a configuration listening on `listen` with the defaults.
    public init(listen: ListenAddress) {
        self.listen = listen
    }
}
