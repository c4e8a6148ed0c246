import Buffer
import Core

/// Renders one device period: every playing stream on the common timeline, summed, channels
/// mapped (mono to all; extra channels dropped and counted), clipped and counted.
///
/// Thread: playback (RT). Lock-free, non-allocating: all buffers are made up front. Made on a
/// normal thread and handed to the playback thread, which alone uses it.
public final class PlaybackMixer: @unchecked Sendable {
    /// Device channels.
    public let channels: Int
    /// The most frames one period may have.
    public let maximumPeriod: Int
    /// Every sample's time is its timeline time plus the latency in force, which the mixer slews
    /// to the latency's target by at most `slewRate` of the time played: each stream's resampler
    /// plays that much slower or faster meanwhile (no click; the streams stay aligned).
    public let latency: PlaybackLatency
    /// The latency in force, ns. Playback-thread owned.
    private var latencyNow: Double
    /// How fast the latency in force moves, relative to the time played: 5 ms a second, a pitch
    /// change of 9 cents while it moves (a JACK period's worth of latency in about a second).
    @inline(__always) public static var slewRate: Double { 0.005 }
    private let slots: StreamSlots
    private let counters: PlaybackCounters
    private let streamBuffer: UnsafeMutablePointer<Float>
    /// The mixed period, `frames × channels` samples.
    public let mix: UnsafeMutablePointer<Float>
    /// The first playing stream's position error (input frames) and trim in the last period (NaN: none played).
    private(set) var firstStreamError = Double.nan, firstStreamTrim = Double.nan

    /// Makes a mixer for `channels` device channels and streams of up to 64 channels.
    public init(channels: Int, maximumPeriod: Int, latency: PlaybackLatency, slots: StreamSlots, counters: PlaybackCounters) {
        self.channels = channels
        self.maximumPeriod = maximumPeriod
        self.latency = latency
        latencyNow = Double(latency.inForce.rawValue)
        self.slots = slots
        self.counters = counters
        streamBuffer = .allocate(capacity: maximumPeriod * 64)
        streamBuffer.initialize(repeating: 0, count: maximumPeriod * 64)
        mix = .allocate(capacity: maximumPeriod * channels)
        mix.initialize(repeating: 0, count: maximumPeriod * channels)
        // Once here, so that what the runtime makes on first use of the SIMD types (their
        // metadata, in unoptimised builds) is not made on the playback thread.
        var scratch = [Float](repeating: 0, count: 4)
        scratch.withUnsafeMutableBufferPointer { buffer in
            Self.add(buffer.baseAddress!, into: buffer.baseAddress!, count: 4)
            _ = Self.clip(buffer.baseAddress!, count: 4)
        }
    }

    deinit {
        streamBuffer.deallocate()
        mix.deallocate()
    }

    /// Whether no stream is attached: every period is silence until one is.
    /// Thread: playback (RT).
    public var isIdle: Bool { slots.isEmpty }

    /// Mixes `frames` frames whose first is heard at `firstTime` on a device running at
    /// `deviceRate` frames per local second, into `mix`. Thread: playback (RT). Lock-free, non-allocating.
    public func render(frames: Int, firstTime: Nanoseconds, deviceRate: Double) {
        let deviceChannels = channels
        // The latency in force moves towards its target, a little each period.
        let periodNanoseconds = Double(frames) / deviceRate * 1e9
        let maximumStep = periodNanoseconds * Self.slewRate
        var step = Double(latency.target.rawValue) - latencyNow
        step = maximumStep.isFinite ? min(max(step, -maximumStep), maximumStep) : 0
        latencyNow += step
        let inForce = Nanoseconds(Int64(latencyNow.rounded()))
        latency.inForce = inForce
        // While it moves, the streams read their audio that much slower (a rising latency) or
        // faster: as if the device ran at this rate, so their drift locks need not chase it.
        let streamDeviceRate = step == 0 ? deviceRate : deviceRate / (1 - step / periodNanoseconds)
        mix.update(repeating: 0, count: frames * deviceChannels)
        var playing = 0
        var worstError = 0.0
        firstStreamError = .nan
        firstStreamTrim = .nan
        slots.forEachPlaying { stream in
            guard stream.render(frames: frames, firstTime: firstTime, deviceRate: streamDeviceRate, latency: inForce, into: streamBuffer) else { return }
            if playing == 0 {
                firstStreamError = stream.lastError
                firstStreamTrim = stream.lastTrim
            }
            worstError = max(worstError, abs(stream.lastErrorNanoseconds))
            playing += 1
            let streamChannels = stream.channels
            if streamChannels == deviceChannels {
                Self.add(streamBuffer, into: mix, count: frames &* deviceChannels)
            } else {
                for frame in 0..<frames {
                    let source = streamBuffer + frame * streamChannels
                    let target = mix + frame * deviceChannels
                    if streamChannels == 1 {
                        for channel in 0..<deviceChannels { target[channel] += source[0] }
                    } else {
                        for channel in 0..<min(streamChannels, deviceChannels) { target[channel] += source[channel] }
                    }
                }
            }
            if streamChannels > deviceChannels && streamChannels > 1 { counters.droppedChannelSamples.add(frames * (streamChannels - deviceChannels)) }
        }
        let clipped = Self.clip(mix, count: frames &* deviceChannels)
        if clipped > 0 { counters.clippedSamples.add(clipped) }
        // (Converted with a check: `Int(_:)` traps beyond its range, and no trap may happen here.)
        counters.presentationError.set(worstError < 9.2e18 ? Int(worstError) : .max)
        let previous = counters.streamsPlaying.value
        if previous != playing { counters.streamsPlaying.add(playing - previous) }
    }

    /// Adds `count` samples of `source` to `target`, four at a time (the common case: a stream
    /// with the device's channels). Thread: playback (RT).
    @inline(__always)
    private static func add(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(target)
        var index = 0
        while index &+ 4 <= count {
            let offset = index &* 4
            let sum = to.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self) + from.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self)
            to.storeBytes(of: sum, toByteOffset: offset, as: SIMD4<Float>.self)
            index &+= 4
        }
        while index < count {
            target[index] += source[index]
            index &+= 1
        }
    }

    /// Clips `count` samples to [−1, 1], four at a time; returns how many were beyond it.
    /// Thread: playback (RT).
    @inline(__always)
    private static func clip(_ samples: UnsafeMutablePointer<Float>, count: Int) -> Int {
        let raw = UnsafeMutableRawPointer(samples)
        var beyond = SIMD4<Int32>()
        var index = 0
        while index &+ 4 <= count {
            let offset = index &* 4
            let four = raw.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self)
            let high = four .> 1, low = four .< -1
            beyond &+= SIMD4<Int32>().replacing(with: 1, where: high .| low)
            raw.storeBytes(of: four.replacing(with: 1, where: high).replacing(with: -1, where: low), toByteOffset: offset, as: SIMD4<Float>.self)
            index &+= 4
        }
        var clipped = Int(beyond.wrappedSum())
        while index < count {
            let sample = samples[index]
            if sample > 1 || sample < -1 {
                samples[index] = sample > 1 ? 1 : -1
                clipped &+= 1
            }
            index &+= 1
        }
        return clipped
    }

    /// How long mixing one more stream into a period takes on this machine (and this build): the
    /// shortest of a few periods of a resampled stereo stream (the work itself, not the time the
    /// thread was preempted meanwhile), measured on the calling thread before playback starts.
    /// The playback loop allows for it before a new stream has been mixed.
    public static func measureStreamCost(channels: Int, periodFrames: Int, deviceRate: SampleRate) -> Nanoseconds {
        let counters = PlaybackCounters(), slots = StreamSlots(capacity: 1)
        let mixer = PlaybackMixer(channels: channels, maximumPeriod: periodFrames, latency: PlaybackLatency(.zero), slots: slots, counters: counters)
        // 44.1 kHz against the device's rate: the resampling path, the costly one.
        let streamRate = 44_100, frames = 16_384
        guard let ring = FrameRing(channels: ChannelCount(2), capacity: frames) else { return .zero }
        let samples = [Float](repeating: 0.25, count: frames * 2)
        samples.withUnsafeBufferPointer { _ = ring.write(firstSample: 0, frameCount: frames, samples: $0) }
        let timeline = PublishedTimeline()
        let start = Nanoseconds.seconds(1)
        timeline.publish(.init(anchorSample: 0, anchorTime: start, samplesPerSecond: Double(streamRate)))
        let stream = StreamHandoff(streamID: nil, sampleRate: SampleRate(hertz: streamRate), channels: ChannelCount(2), ring: ring, timeline: timeline)
        _ = slots.attach(PlaybackStream(stream, maximumPeriod: periodFrames, counters: counters))
        let clock = SystemMonotonicClock()
        let periodNanoseconds = Double(periodFrames) * 1e9 / Double(deviceRate.hertz)
        var times: [Nanoseconds] = []
        for period in 0..<13 {
            let began = clock.now()
            mixer.render(frames: periodFrames, firstTime: start + Nanoseconds(Int64(Double(period) * periodNanoseconds)),
                         deviceRate: Double(deviceRate.hertz))
            // The first periods warm caches and fault pages in: not counted.
            if period >= 4 { times.append(clock.now() - began) }
        }
        return times.min() ?? .zero
    }
}
