import CALSA
import Core
import Realtime

/// Opening and configuring a PCM (control code: it allocates and builds error text), and what
/// ALSA's configuration offers.
extension AlsaPCM {
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

    /// Opens and configures `request.name`; the error says what failed.
    public convenience init(_ request: Request) throws(AlsaError) {
        var opened: OpaquePointer?
        // Our error says what failed; ALSA's own line would come first and on every retry.
        jamplay_alsa_silence_errors()
        let result = snd_pcm_open(&opened, request.name, SND_PCM_STREAM_PLAYBACK, 0)
        jamplay_alsa_restore_errors()
        try alsaCheck(result, "cannot open ALSA device \"\(request.name)\"")
        guard let handle = opened else { throw AlsaError("cannot open ALSA device \"\(request.name)\": no handle") }
        let negotiated: Negotiated
        do {
            negotiated = try Self.configure(handle, request)
        } catch {
            snd_pcm_close(handle)
            throw error
        }
        self.init(handle: handle, name: request.name, negotiated: negotiated)
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
