import CALSA
import Core

/// An ALSA playback PCM, negotiated and configured for the player: interleaved, timestamps on
/// `CLOCK_MONOTONIC`, starting with its first period written.
///
/// Open and close on a normal thread; `write`, `readStatus` and `recover` are for the playback
/// thread (Thread: playback (RT). Non-allocating; they enter the ALSA library, which takes no
/// locks of ours). Sendable because it is handed from the opening thread to the playback thread,
/// one user at a time.
public final class AlsaPCM: @unchecked Sendable {
    /// What to ask the device for.
    public struct Request: Hashable, Sendable {
        /// ALSA PCM name (`default`, `hw:CARD=PCH,DEV=0`, `jack`, `null`).
        public var name = "default"
        /// Sample rate.
        public var rate = SampleRate.standard
        /// Channels.
        public var channels = ChannelCount(2)
        /// Frames per period.
        public var periodFrames = 256
        /// Periods in the buffer.
        public var periods = 3

        /// Makes the defaults.
        public init() {}
    }

    /// What the device gave.
    public struct Negotiated: Hashable, Sendable, CustomStringConvertible {
        public var format: DeviceSampleFormat
        public var rate: SampleRate
        public var channels: ChannelCount
        public var periodFrames: Int
        public var bufferFrames: Int

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

    /// Opens and configures `request.name`; the error says what failed.
    public init(_ request: Request) throws(AlsaError) {
        name = request.name
        var pcm: OpaquePointer?
        // Our error says what failed; ALSA's own line would come first and on every retry.
        jamplay_alsa_silence_errors()
        let opened = snd_pcm_open(&pcm, request.name, SND_PCM_STREAM_PLAYBACK, 0)
        jamplay_alsa_restore_errors()
        try alsaCheck(opened, "cannot open ALSA device \"\(request.name)\"")
        handle = pcm!
        do {
            negotiated = try Self.configure(handle, request)
        } catch {
            snd_pcm_close(handle)
            throw error
        }
        var status: OpaquePointer?, software: OpaquePointer?
        snd_pcm_status_malloc(&status)
        snd_pcm_sw_params_malloc(&software)
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

    /// Whether ALSA reports any sound card at all (the `null` PCM needs none).
    public static var hasSoundCard: Bool {
        var card: Int32 = -1
        return snd_card_next(&card) == 0 && card >= 0
    }

    /// The playback PCMs ALSA's configuration names, with their descriptions (`snd_device_name_hint`).
    public static func playbackDeviceHints() -> [(name: String, description: String)] {
        var hints: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        guard snd_device_name_hint(-1, "pcm", &hints) == 0, let hints else { return [] }
        defer { snd_device_name_free_hint(hints) }
        var result: [(String, String)] = []
        var index = 0
        while let hint = hints[index] {
            index += 1
            func field(_ key: String) -> String? {
                guard let value = snd_device_name_get_hint(hint, key) else { return nil }
                defer { free(value) }
                return String(cString: value)
            }
            // IOID absent means both directions; "Input" alone is capture only.
            guard let name = field("NAME"), field("IOID") != "Input" else { continue }
            result.append((name, (field("DESC") ?? "").split(separator: "\n").joined(separator: " — ")))
        }
        return result
    }

    private static func configure(_ pcm: OpaquePointer, _ request: Request) throws(AlsaError) -> Negotiated {
        let device = "ALSA device \"\(request.name)\""
        var hardware: OpaquePointer?
        snd_pcm_hw_params_malloc(&hardware)
        defer { snd_pcm_hw_params_free(hardware) }
        try alsaCheck(snd_pcm_hw_params_any(pcm, hardware), "\(device): no configurations")
        try alsaCheck(snd_pcm_hw_params_set_access(pcm, hardware, SND_PCM_ACCESS_RW_INTERLEAVED), "\(device): interleaved access")
        guard let format = DeviceSampleFormat.allCases.first(where: { snd_pcm_hw_params_test_format(pcm, hardware, alsaFormat($0)) == 0 }) else {
            throw AlsaError("\(device) takes none of FLOAT_LE, S32_LE, S24_3LE, S16_LE")
        }
        try alsaCheck(snd_pcm_hw_params_set_format(pcm, hardware, alsaFormat(format)), "\(device): format \(format.rawValue)")
        var channels = UInt32(request.channels.rawValue)
        try alsaCheck(snd_pcm_hw_params_set_channels_near(pcm, hardware, &channels), "\(device): \(request.channels.rawValue) channels")
        var rate = UInt32(request.rate.hertz)
        try alsaCheck(snd_pcm_hw_params_set_rate_near(pcm, hardware, &rate, nil), "\(device): rate \(request.rate.hertz)")
        var period = snd_pcm_uframes_t(request.periodFrames)
        try alsaCheck(snd_pcm_hw_params_set_period_size_near(pcm, hardware, &period, nil), "\(device): period \(request.periodFrames)")
        var buffer = snd_pcm_uframes_t(Int(period) * request.periods)
        try alsaCheck(snd_pcm_hw_params_set_buffer_size_near(pcm, hardware, &buffer), "\(device): buffer of \(request.periods) periods")
        try alsaCheck(snd_pcm_hw_params(pcm, hardware), "\(device): hardware parameters")
        snd_pcm_hw_params_get_period_size(hardware, &period, nil)
        snd_pcm_hw_params_get_buffer_size(hardware, &buffer)

        var software: OpaquePointer?
        snd_pcm_sw_params_malloc(&software)
        defer { snd_pcm_sw_params_free(software) }
        try alsaCheck(snd_pcm_sw_params_current(pcm, software), "\(device): software parameters")
        try alsaCheck(snd_pcm_sw_params_set_tstamp_mode(pcm, software, SND_PCM_TSTAMP_ENABLE), "\(device): timestamps")
        try alsaCheck(snd_pcm_sw_params_set_tstamp_type(pcm, software, SND_PCM_TSTAMP_TYPE_MONOTONIC), "\(device): CLOCK_MONOTONIC timestamps")
        // The player keeps the device only as full as it must be, so it starts with one period.
        try alsaCheck(snd_pcm_sw_params_set_start_threshold(pcm, software, period), "\(device): start threshold")
        try alsaCheck(snd_pcm_sw_params_set_avail_min(pcm, software, period), "\(device): avail_min")
        try alsaCheck(snd_pcm_sw_params(pcm, software), "\(device): software parameters")
        try alsaCheck(snd_pcm_prepare(pcm), "\(device): prepare")
        return Negotiated(format: format, rate: SampleRate(hertz: Int(rate)), channels: ChannelCount(Int(channels)),
                          periodFrames: Int(period), bufferFrames: Int(buffer))
    }

    private static func alsaFormat(_ format: DeviceSampleFormat) -> snd_pcm_format_t {
        switch format {
        case .float32: SND_PCM_FORMAT_FLOAT_LE
        case .signed32: SND_PCM_FORMAT_S32_LE
        case .signed24Packed: SND_PCM_FORMAT_S24_3LE
        case .signed16: SND_PCM_FORMAT_S16_LE
        }
    }
}
