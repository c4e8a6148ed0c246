import Buffer
import Core
#if canImport(Glibc)
import Glibc
#endif

/// Plays a stream's predicted audio where its own is missing: at each gap, the prediction the
/// concealment worker prepared for it (if it is for this very gap), and where the stream's audio
/// resumes after a forward prediction, a crossfade from the prediction into it.
///
/// Made with its buffers on a normal thread; used by the playback thread only, through
/// ``fill(_:from:frames:missing:)`` on each stretch of the stream read from its ring.
/// Thread: playback (RT). Lock-free, non-allocating.
struct GapFiller {
    private unowned(unsafe) let prepared: PreparedConcealment
    private unowned(unsafe) let handoff: StreamHandoff
    private unowned(unsafe) let counters: PlaybackCounters
    private let channels: Int
    /// The prediction's weight over the crossfade, from 1 towards 0 (cos²).
    private let crossfadeWeights: UnsafeMutablePointer<Float>
    private let crossfadeFrames: Int
    /// The prediction held for the gap being played, or being crossfaded out of.
    private var prediction: PreparedConcealment.Prediction?
    /// The first missing position of the gap being played, and how many frames of it were
    /// played and predicted so far.
    private var gapStart: Int64?
    private var gapFrames = 0, concealedInGap = 0
    /// Where the crossfade after a forward prediction stands: its position in the prediction and
    /// the frames left (0: none).
    private var fadeIndex = 0, fadeRemaining = 0

    /// Whether a gap or a crossfade is under way (a read with no gap still needs ``fill(_:from:frames:missing:)``).
    var isActive: Bool { gapStart != nil || fadeRemaining > 0 }

    /// Prepares to fill the gaps of the stream `handoff` brings from its `prepared` predictions,
    /// crossfading over `crossfadeFrames` frames where the audio resumes.
    init(_ handoff: StreamHandoff, prepared: PreparedConcealment, crossfadeFrames: Int, counters: PlaybackCounters) {
        self.prepared = prepared
        self.handoff = handoff
        self.counters = counters
        channels = prepared.channels
        self.crossfadeFrames = max(1, crossfadeFrames)
        crossfadeWeights = .allocate(capacity: self.crossfadeFrames)
        for index in 0..<self.crossfadeFrames {
            let phase = (Double(index) + 0.5) / Double(self.crossfadeFrames) * Double.pi / 2
            crossfadeWeights[index] = Float(cos(phase) * cos(phase))
        }
    }

    /// Frees the crossfade's table (the owner's `deinit`).
    func deallocate() { crossfadeWeights.deallocate() }

    /// Fills the missing frames of the `frames` frames at `samples`, stream positions `first` on,
    /// that `missing` marks, from the prediction for their gap where there is one, and crossfades
    /// where audio resumes after a forward prediction. Returns how many missing frames it filled.
    /// Thread: playback (RT). Lock-free, non-allocating.
    mutating func fill(_ samples: UnsafeMutablePointer<Float>, from first: Int64, frames: Int, missing: UnsafePointer<Bool>) -> Int {
        var filled = 0
        for index in 0..<frames {
            let position = first + Int64(index)
            let frame = samples + index * channels
            if missing[index] {
                if gapStart == nil {
                    // A new gap: the prediction made for it, if there is one.
                    prediction = prepared.claim(start: position)
                    gapStart = position
                    gapFrames = 0
                    concealedInGap = 0
                    fadeRemaining = 0
                }
                gapFrames += 1
                if let prediction, position &- prediction.start < Int64(prediction.frames) {
                    frame.update(from: prediction.samples + Int(position &- prediction.start) * channels, count: channels)
                    concealedInGap += 1
                    filled += 1
                }
                continue
            }
            if gapStart != nil { endGap(at: position) }
            if fadeRemaining > 0, let prediction {
                let weight = crossfadeWeights[crossfadeFrames - fadeRemaining]
                // Past the prediction's end (a gap longer than the limit), it fades in from silence.
                let predicted = fadeIndex < prediction.frames ? prediction.samples + fadeIndex * channels : nil
                for channel in 0..<channels {
                    let guess = predicted?[channel] ?? 0
                    frame[channel] = weight * guess + (1 - weight) * frame[channel]
                }
                fadeIndex += 1
                fadeRemaining -= 1
                if fadeRemaining == 0 { letGo() }
            }
        }
        if filled > 0 {
            counters.concealedFrames.add(filled)
            handoff.concealedFrames.add(filled)
        }
        return filled
    }

    /// Forgets the gap under way (the stream jumped: what follows is not its continuation).
    mutating func reset() {
        gapStart = nil
        fadeRemaining = 0
        letGo()
    }

    /// Lets the held prediction go, for the worker to reuse its slot.
    private mutating func letGo() {
        if prediction != nil { prepared.releaseClaim() }
        prediction = nil
    }

    /// The gap under way ends at `position`: its length is recorded if any of it was predicted,
    /// and a forward prediction is crossfaded into the audio from here.
    private mutating func endGap(at position: Int64) {
        gapStart = nil
        guard concealedInGap > 0, let prediction else { return letGo() }
        if gapFrames > handoff.longestConcealedGap.value { handoff.longestConcealedGap.set(gapFrames) }
        let nanoseconds = Int(min(Double(gapFrames) * 1e9 / Double(max(1, handoff.sampleRate.hertz)), 1e18))
        if nanoseconds > counters.longestConcealedGap.value { counters.longestConcealedGap.set(nanoseconds) }
        guard !prediction.endsOnAudio else { return letGo() }
        fadeIndex = Int(clamping: position &- prediction.start)
        fadeRemaining = crossfadeFrames
    }
}
