import Core
import Foundation

/// A take that concealment is measured on: 48 kHz stereo, interleaved.
public struct TestSignal: Sendable {
    /// Sample frames per second.
    public static let rate = 48_000
    /// Interleaved channels.
    public static let channels = 2

    /// What it is called in a table.
    public let name: String
    /// Whether a good predictor should continue it (tones) rather than merely not invent any (noise, speech).
    public let isTonal: Bool
    /// The samples, `channels` a frame.
    public let samples: [Float]

    /// Sample frames.
    public var frames: Int { samples.count / Self.channels }

    /// A harmonic tone (220 Hz, eight harmonics falling 6 dB an octave) with a 5.5 Hz vibrato of
    /// ±30 cents; the right channel a little later.
    public static func vibratoTone(seconds: Double) -> TestSignal {
        var phase = 0.0
        let samples = stereo(seconds: seconds, delay: 11) { time in
            let frequency = 220 * pow(2, 0.3 / 12 * sin(2 * .pi * 5.5 * time))
            phase += 2 * .pi * frequency / Double(rate)
            var value = 0.0
            for harmonic in 1...8 { value += sin(Double(harmonic) * phase) / Double(harmonic) }
            return 0.25 * value
        }
        return TestSignal(name: "vibrato tone", isTonal: true, samples: samples)
    }

    /// Plucked strings (Karplus–Strong), a new note every 1.5 s, each decaying as a guitar's.
    public static func pluckedTone(seconds: Double) -> TestSignal {
        var random = SeededRandomNumberGenerator(seed: 7)
        let notes = [196.0, 246.9, 293.7, 392.0, 329.6, 261.6]
        var line: [Double] = []
        var position = 0
        var frame = 0
        let samples = stereo(seconds: seconds, delay: 7) { _ in
            if frame % Int(1.5 * Double(rate)) == 0 {
                let note = notes[(frame / Int(1.5 * Double(rate))) % notes.count]
                line = (0..<Int(Double(rate) / note)).map { _ in Double(random.next() >> 11) / Double(1 << 53) * 2 - 1 }
                // A softer pluck: the burst low-passed once.
                for index in stride(from: line.count - 1, to: 0, by: -1) { line[index] = 0.5 * (line[index] + line[index - 1]) }
                position = 0
            }
            frame += 1
            let next = (position + 1) % line.count
            let value = line[position]
            line[position] = 0.998 * 0.5 * (line[position] + line[next])
            position = next
            return 0.5 * value
        }
        return TestSignal(name: "plucked tone", isTonal: true, samples: samples)
    }

    /// A C major chord (three notes, four harmonics each) whose notes swell and fade slowly.
    public static func chord(seconds: Double) -> TestSignal {
        let notes = [261.63, 329.63, 392.0]
        let samples = stereo(seconds: seconds, delay: 5) { time in
            var value = 0.0
            for (index, note) in notes.enumerated() {
                let level = 0.6 + 0.4 * sin(2 * .pi * 0.3 * time + Double(index))
                for harmonic in 1...4 { value += level * sin(2 * .pi * note * Double(harmonic) * time) / Double(harmonic * harmonic) }
            }
            return 0.2 * value
        }
        return TestSignal(name: "chord", isTonal: true, samples: samples)
    }

    /// White noise at −12 dBFS RMS: a predictor should invent no tone and add no level.
    public static func noise(seconds: Double) -> TestSignal {
        var random = SeededRandomNumberGenerator(seed: 11)
        let count = Int(seconds * Double(rate)) * channels
        // Uniform in ±a has RMS a / √3.
        let amplitude = 0.25 * 3.0.squareRoot()
        var samples = [Float](repeating: 0, count: count)
        for index in 0..<count {
            let unit: Double = Double(random.next() >> 11) / Double(UInt64(1) << 53)
            samples[index] = Float((unit * 2 - 1) * amplitude)
        }
        return TestSignal(name: "noise", isTonal: false, samples: samples)
    }

    /// Whether espeak-ng and sox, which make the speech signal, are installed.
    public static var speechToolsInstalled: Bool {
        ["/usr/bin/espeak-ng", "/usr/bin/sox"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Speech spoken by espeak-ng, resampled to 48 kHz stereo by sox; nil (with why) when either is missing.
    public static func speech() -> Result<TestSignal, SpeechUnavailable> {
        let text = "The quick brown fox jumps over the lazy dog. A band plays together over the network, "
            + "every note on time, and nothing the network sends can stop the music."
        let script = "espeak-ng --stdout -s 150 '\(text)' | sox -t wav - -r 48000 -c 2 -t f32 -"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "command -v espeak-ng >/dev/null && command -v sox >/dev/null || exit 127; " + script]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return .failure(SpeechUnavailable(reason: "cannot run /bin/sh: \(error)")) }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, data.count > 4 * rate else {
            return .failure(SpeechUnavailable(reason: process.terminationStatus == 127
                ? "espeak-ng or sox is not installed (Debian: espeak-ng sox)" : "espeak-ng | sox exited \(process.terminationStatus)"))
        }
        let samples = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return .success(TestSignal(name: "speech", isTonal: false, samples: Array(samples.prefix(samples.count / channels * channels))))
    }

    /// Why the speech signal could not be made.
    public struct SpeechUnavailable: Error, CustomStringConvertible {
        /// What is missing.
        public let reason: String
        /// The reason.
        public var description: String { reason }
    }

    /// `seconds` of stereo from `sample` (called once a frame with the frame's time), the right
    /// channel `delay` frames behind the left.
    private static func stereo(seconds: Double, delay: Int, _ sample: (Double) -> Double) -> [Float] {
        let frames = Int(seconds * Double(rate))
        let mono = (0..<(frames + delay)).map { sample(Double($0) / Double(rate)) }
        var samples = [Float](repeating: 0, count: frames * channels)
        for frame in 0..<frames {
            samples[frame * 2] = Float(mono[frame + delay])
            samples[frame * 2 + 1] = Float(mono[frame])
        }
        return samples
    }
}
