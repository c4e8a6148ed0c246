import Foundation

/// How close a take with concealed gaps is to the take without loss.
public struct ConcealmentScore: Sendable {
    /// Signal to error over the lost spans only, in dB (silence scores 0).
    public let lostSpanSNR: Double
    /// Mean over 10 ms segments of the whole take of each segment's signal to error, each
    /// clamped to −10 … 35 dB (a perfect segment counts 35).
    public let segmentalSNR: Double
    /// RMS of the output over the lost spans beside the reference's there, in dB (+ means louder).
    public let levelChange: Double

    /// Scores `output` against `reference` (interleaved, `channels` a frame) over `gaps`
    /// (sample frames, moved by `offset` frames).
    public init(output: [Float], reference: [Float], gaps: [(start: Int, length: Int)], channels: Int, offset: Int = 0) {
        var signal = 0.0, error = 0.0, produced = 0.0
        let frames = min(output.count, reference.count) / channels
        for gap in gaps {
            let start = max(0, gap.start - offset), end = min(frames, gap.start - offset + gap.length)
            guard start < end else { continue }
            for index in (start * channels)..<(end * channels) {
                let wanted = Double(reference[index]), got = Double(output[index])
                signal += wanted * wanted
                error += (got - wanted) * (got - wanted)
                produced += got * got
            }
        }
        lostSpanSNR = 10 * log10(max(signal, 1e-30) / max(error, 1e-30))
        levelChange = 10 * log10(max(produced, 1e-30) / max(signal, 1e-30))
        var total = 0.0, segments = 0
        let segment = 480
        var start = 0
        while start + segment <= frames {
            var segmentSignal = 0.0, segmentError = 0.0
            for index in (start * channels)..<((start + segment) * channels) {
                let wanted = Double(reference[index]), got = Double(output[index])
                segmentSignal += wanted * wanted
                segmentError += (got - wanted) * (got - wanted)
            }
            if segmentSignal > 1e-9 {
                total += min(35, max(-10, 10 * log10(segmentSignal / max(segmentError, 1e-30))))
                segments += 1
            }
            start += segment
        }
        segmentalSNR = segments > 0 ? total / Double(segments) : 0
    }
}
