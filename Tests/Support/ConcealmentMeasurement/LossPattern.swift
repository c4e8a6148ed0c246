import Core

/// Which 10 ms frames of a take are lost.
public struct LossPattern: Sendable {
    /// Sample frames in one network frame (10 ms at 48 kHz).
    public static let frameLength = 480

    /// What it is called in a table.
    public let name: String
    /// One entry a network frame: true where it is lost.
    public let lost: [Bool]

    /// A pattern of `lost` frames called `name`.
    public init(name: String, lost: [Bool]) {
        self.name = name
        self.lost = lost
    }

    /// Each frame lost with probability `fraction`, independently (the first second never: the
    /// predictors need something to start from).
    public static func random(_ fraction: Double, frames: Int, seed: UInt64 = 1) -> LossPattern {
        var random = SeededRandomNumberGenerator(seed: seed)
        let lost = (0..<frames).map { $0 >= 100 && random.chance(fraction) }
        return LossPattern(name: "\(Int((fraction * 100).rounded())) % random", lost: lost)
    }

    /// `fraction` of the frames lost in runs of 2 or 3.
    public static func bursts(_ fraction: Double, frames: Int, seed: UInt64 = 2) -> LossPattern {
        var random = SeededRandomNumberGenerator(seed: seed)
        var lost = [Bool](repeating: false, count: frames)
        // Bursts start with a probability that makes the lost fraction come out at `fraction`.
        let start = fraction / 2.5
        var index = 100
        while index < frames {
            if random.chance(start) {
                let length = 2 + Int(random.next() % 2)
                for offset in 0..<length where index + offset < frames { lost[index + offset] = true }
                index += length + 1
            } else {
                index += 1
            }
        }
        return LossPattern(name: "\(Int((fraction * 100).rounded())) % in bursts of 2–3", lost: lost)
    }

    /// The runs of lost frames: (first sample frame, sample frames).
    public var gaps: [(start: Int, length: Int)] {
        var gaps: [(start: Int, length: Int)] = []
        var index = 0
        while index < lost.count {
            guard lost[index] else { index += 1; continue }
            var end = index
            while end < lost.count && lost[end] { end += 1 }
            gaps.append((index * Self.frameLength, (end - index) * Self.frameLength))
            index = end
        }
        return gaps
    }

    /// The fraction of frames lost.
    public var fraction: Double { Double(lost.filter { $0 }.count) / Double(max(1, lost.count)) }
}
