import CALSA
import Core

/// An open ALSA playback PCM, negotiated and configured for the player: interleaved, timestamps
/// on `CLOCK_MONOTONIC`, starting with its first period written. Opening and configuring it is
/// control code (Playback's `AlsaPCM(_:)`); this is what the playback thread uses.
///
/// Open and close on a normal thread; `write`, `readStatus` and `recover` are for the playback
/// thread (Thread: playback (RT). Non-allocating; they enter the ALSA library, which takes no
/// locks of ours). Sendable because it is handed from the opening thread to the playback thread,
/// one user at a time.
public final class AlsaPCM: @unchecked Sendable {
    /// What the device gave.
    public struct Negotiated: Hashable, Sendable, CustomStringConvertible {
        /// The sample format written.
        public var format: DeviceSampleFormat
        /// The device's rate.
        public var rate: SampleRate
        /// Interleaved channels.
        public var channels: ChannelCount
        /// Frames the device takes at a time.
        public var periodFrames: Int
        /// Frames its buffer holds.
        public var bufferFrames: Int

        /// Makes a configuration.
        public init(format: DeviceSampleFormat, rate: SampleRate, channels: ChannelCount, periodFrames: Int, bufferFrames: Int) {
            self.format = format
            self.rate = rate
            self.channels = channels
            self.periodFrames = periodFrames
            self.bufferFrames = bufferFrames
        }

        /// How long `frames` device frames play.
        public func duration(ofFrames frames: Int) -> Nanoseconds {
            Nanoseconds(Int64((Double(frames) * 1e9 / Double(rate.hertz)).rounded()))
        }

        /// `"FLOAT_LE, 48000 Hz, 2 ch, period 256, buffer 768 frames"`.
        public var description: String {
            "\(format.rawValue), \(rate.hertz) Hz, \(channels.rawValue) ch, period \(periodFrames), buffer \(bufferFrames) frames"
        }
    }

    /// One `snd_pcm_status` reading.
    public struct Status: Hashable, Sendable {
        /// When the status was taken, `CLOCK_MONOTONIC`.
        public var timestamp: Nanoseconds
        /// Frames between the application pointer and the one being heard.
        public var delayFrames: Int
        /// Frames the application may write now.
        public var availableFrames: Int
    }

    /// The PCM's name.
    public let name: String
    /// The configuration the device accepted.
    public let negotiated: Negotiated
    private let handle: OpaquePointer
    private let statusBuffer: OpaquePointer
    private let softwareParameters: OpaquePointer

    /// Takes over `handle`, an open PCM configured as `negotiated` (see `AlsaPCM(_:)` in Playback,
    /// which opens and configures it); it is closed when this is freed.
    package init(handle: OpaquePointer, name: String, negotiated: Negotiated) {
        self.handle = handle
        self.name = name
        self.negotiated = negotiated
        var status: OpaquePointer?, software: OpaquePointer?
        snd_pcm_status_malloc(&status)
        snd_pcm_sw_params_malloc(&software)
        // ALSA's allocators fail only when memory does: nothing here could go on.
        statusBuffer = status!
        softwareParameters = software!
    }

    deinit {
        snd_pcm_drop(handle)
        snd_pcm_close(handle)
        snd_pcm_status_free(statusBuffer)
        snd_pcm_sw_params_free(softwareParameters)
    }

    /// Writes `frames` interleaved frames; returns the frames written or a negative error.
    /// Blocks while the device's buffer is full (a pacing device).
    public func write(_ bytes: UnsafeRawPointer, frames: Int) -> Int {
        Int(snd_pcm_writei(handle, bytes, snd_pcm_uframes_t(frames)))
    }

    /// Waits until the device has room for `wakeThreshold` frames: 1 then, 0 if it has none
    /// after `timeoutMilliseconds` (it stopped taking samples), or a negative error (an xrun).
    public func waitForRoom(timeoutMilliseconds: Int32) -> Int {
        Int(snd_pcm_wait(handle, timeoutMilliseconds))
    }

    /// Sets the room `waitForRoom` waits for (ALSA's `avail_min`), in frames; false when the
    /// device refuses it. Set to one more than the room left after a write, the wait ends as soon
    /// as the device takes its next frames, whatever it still holds.
    public func setWakeThreshold(_ frames: Int) -> Bool {
        snd_pcm_sw_params_current(handle, softwareParameters) >= 0
            && snd_pcm_sw_params_set_avail_min(handle, softwareParameters, snd_pcm_uframes_t(max(1, frames))) >= 0
            && snd_pcm_sw_params(handle, softwareParameters) >= 0
    }

    /// The device's status now, nil when ALSA cannot give one.
    public func readStatus() -> Status? {
        guard snd_pcm_status(handle, statusBuffer) >= 0 else { return nil }
        var stamp = snd_htimestamp_t()
        snd_pcm_status_get_htstamp(statusBuffer, &stamp)
        return Status(timestamp: Nanoseconds(Int64(stamp.tv_sec) * 1_000_000_000 + Int64(stamp.tv_nsec)),
                      delayFrames: Int(snd_pcm_status_get_delay(statusBuffer)),
                      availableFrames: Int(snd_pcm_status_get_avail(statusBuffer)))
    }

    /// Drops what is queued and prepares the device to start again with the next period written.
    public func restart() {
        snd_pcm_drop(handle)
        snd_pcm_prepare(handle)
    }

    /// Recovers from an xrun or suspend (`snd_pcm_recover`, silently); false when the device is gone.
    public func recover(_ error: Int) -> Bool {
        snd_pcm_recover(handle, Int32(error), 1) >= 0
    }
}
