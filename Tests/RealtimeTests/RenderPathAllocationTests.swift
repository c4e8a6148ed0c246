import AllocationCounter
import Buffer
import Core
@testable import Realtime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real-time path allocates nothing: the mixer with streams attached (ring reads, resampling by
/// both engines, channel mapping, gaps filled from predictions and crossfaded), the device
/// timeline, the published mixing schedule, conversion to 16 bit with dither, the timing trace and
/// the recording queue.
@Suite struct RenderPathAllocationTests {
    @Test(.enabled(if: allocation_counter_available() == 1, "sanitizer build: the allocation counter cannot interpose malloc"))
    func thousandsOfPeriodsOfTheRenderPathAllocateNothing() {
        let counters = PlaybackCounters()
        let slots = StreamSlots(capacity: 4)
        let mixer = PlaybackMixer(channels: 2, maximumPeriod: 256, latency: PlaybackLatency(.milliseconds(20)), slots: slots, counters: counters)
        let origin = Nanoseconds.seconds(10)
        var rings: [(ring: FrameRing, framesPerDeviceFrame: Int)] = []
        var concealed: PreparedConcealment?
        // The 96 kHz stream is downsampled by libsamplerate, the others by the polyphase resampler.
        for (channels, rate) in [(1, 48_000), (2, 44_100), (4, 48_000), (2, 96_000)] {
            let ring = FrameRing(channels: ChannelCount(channels), capacity: 131_072)!
            let timeline = PublishedTimeline()
            timeline.publish(.init(anchorSample: 0, anchorTime: origin, samplesPerSecond: Double(rate) * (1 + 150e-6)))
            // The 44.1 kHz stream loses frames, which predictions fill.
            let prepared = rate == 44_100 ? PreparedConcealment(channels: ChannelCount(channels), capacity: 2_880) : nil
            let handoff = StreamHandoff(streamID: nil, sampleRate: SampleRate(hertz: rate), channels: ChannelCount(channels), ring: ring,
                                        timeline: timeline, concealment: prepared)
            #expect(slots.attach(PlaybackStream(handoff, maximumPeriod: 256, counters: counters, concealment: prepared == nil ? nil : .standard)) != nil)
            rings.append((ring, rate / 48_000 == 2 ? 2 : 1))
            if let prepared { concealed = prepared }
        }
        let input = UnsafeMutableBufferPointer<Float>.allocate(capacity: 480 * 4)
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: 256 * 2 * 2, alignment: 16)
        defer { input.deallocate(); bytes.deallocate() }
        input.initialize(repeating: 0.25)
        var converter = SampleConverter(format: .signed16)
        var timeline = DeviceTimeline(nominalRate: .standard)
        let trace = PlaybackTrace(capacity: 5_000)
        // A second of room and nobody draining it: appends go in, then are dropped and counted.
        let recording = RecordingQueue(channels: 2, capacity: 48_000)
        let schedule = PublishedDeviceSchedule()
        var written: Int64 = 0
        var framesWritten: Int64 = 0
        // (Not an array: its appends would count.)
        let lostFrames = UnsafeMutablePointer<Int64>.allocate(capacity: 1_000)
        defer { lostFrames.deallocate() }
        var lostCount = 0, nextLost = 0
        let periodNanoseconds = 256.0 / 48_000 * 1e9

        // As on the playback thread, no signal handler runs here.
        var signals = sigset_t(), previous = sigset_t()
        sigfillset(&signals)
        pthread_sigmask(SIG_BLOCK, &signals, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        allocation_counter_start()
        var period = 0
        while period < 5_000 {
            let now = origin + Nanoseconds(Int64(Double(period) * periodNanoseconds))
            // The producer keeps every ring 30 ms ahead of the device.
            while Double(framesWritten) / 48_000 < Double(period) * 256 / 48_000 + 0.03 {
                for index in 0..<rings.count {
                    let (ring, scale) = rings[index]
                    // Every tenth frame of the concealed stream is lost.
                    if index == 1, (framesWritten / 480) % 10 == 5 {
                        lostFrames[lostCount] = framesWritten
                        lostCount += 1
                        continue
                    }
                    for part in 0..<scale {
                        _ = ring.write(firstSample: framesWritten * Int64(scale) + Int64(part * 480), frameCount: 480,
                                       samples: UnsafeBufferPointer(rebasing: input[0..<480 * ring.channels]))
                    }
                }
                framesWritten += 480
            }
            // The concealment worker's part: the next lost frame's prediction, once playback is
            // near it (forward, or from both sides, in turn).
            if let concealed, nextLost < lostCount, lostFrames[nextLost] < rings[1].ring.readPosition + 2_000 {
                concealed.beginPrediction(for: lostFrames[nextLost]).update(repeating: 0.25, count: 960 * rings[1].ring.channels)
                concealed.publish(start: lostFrames[nextLost], frames: nextLost % 2 == 0 ? 480 : 960, endsOnAudio: nextLost % 2 == 0)
                nextLost += 1
            }
            // The device's timing moves 1 ms later every 1 000 periods: the timeline steps and
            // the streams slew at full authority, on the same path.
            timeline.observe(heardFrame: written, at: now + .milliseconds(16 + Int64(period / 1_000)))
            // Half-way, the latency moves (`--latency auto`): the mixer slews to it.
            if period == 2_500 { mixer.latency.target = .milliseconds(23) }
            // The loop tells ingest when it mixes each period, then mixes it.
            schedule.publish(.init(periodStart: timeline.time(ofFrame: written + 768), period: .microseconds(5_333),
                                   mixLead: .milliseconds(2), readAhead: .microseconds(500)))
            mixer.render(frames: 256, firstTime: timeline.time(ofFrame: written + 768), deviceRate: timeline.measuredRate)
            converter.convert(UnsafeBufferPointer(start: mixer.mix, count: 512), into: bytes)
            var entry = PlaybackTrace.Entry()
            entry.written = written
            entry.streamError = mixer.firstStreamError
            entry.framePeriod = timeline.framePeriod
            trace.record(entry)
            recording.append(mixer.mix, frames: 256)
            written += 256
            period += 1
        }
        let allocations = allocation_counter_stop()
        #expect(allocations == 0)
        #expect(recording.droppedFrames.value == (5_000 - 48_000 / 256) * 256)
        #expect(timeline.resets == 4)
        #expect(counters.streamsPlaying.value == 4)
        // The streams really played: the mix is not silent (four streams of 0.25, the 4-channel one's extras dropped).
        #expect(abs(mixer.mix[0] - 1.0) < 0.01)
        #expect(counters.droppedChannelSamples.value > 0)
        #expect(counters.concealedFrames.value >= (nextLost - 2) * 480 && nextLost > 200, "the lost frames were filled from predictions")
    }
}
