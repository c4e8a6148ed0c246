import Core
import Sender
import Testing

@Suite struct SignalTests {
    @Test func everyDocumentedFormParses() throws {
        #expect(try Signal(parsing: "sine") == .sine(frequency: 1000, amplitude: 0.5))
        #expect(try Signal(parsing: "sine:440:0.25") == .sine(frequency: 440, amplitude: 0.25))
        #expect(try Signal(parsing: "impulse:100ms") == .impulse(period: .milliseconds(100)))
        #expect(try Signal(parsing: "impulse") == .impulse(period: .seconds(1)))
        #expect(try Signal(parsing: "chirp") == .chirp(start: 20, end: 20_000, duration: .seconds(10), amplitude: 0.5))
        #expect(try Signal(parsing: "chirp:100:8000:5") == .chirp(start: 100, end: 8000, duration: .seconds(5), amplitude: 0.5))
        #expect(try Signal(parsing: "noise:0.1") == .noise(amplitude: 0.1))
        #expect(try Signal(parsing: "silence") == .silence)
        #expect(try Signal(parsing: "file:/tmp/a:b.wav") == .file(path: "/tmp/a:b.wav"))
    }

    @Test func badSignalsAreRefusedWithTheFormsNamed() {
        for text in ["square", "sine:loud", "sine:440:2", "impulse:10us", "impulse:soon", "chirp:100", "silence:1", "file:"] {
            #expect(throws: Signal.ParseError.self, "\(text)") { try Signal(parsing: text) }
        }
        #expect(Nanoseconds(duration: "250ms") == .milliseconds(250))
        #expect(Nanoseconds(duration: "1.5") == .milliseconds(1500))
        #expect(Nanoseconds(duration: "-1s") == nil)
    }

    @Test func aSignalThatDoesNotFitTheStreamIsRefused() {
        #expect(throws: SignalPlanner.ConfigurationError.self) {
            try SignalPlanner(signal: .sine(frequency: 30_000, amplitude: 0.5), rate: .standard, channels: .mono, framesPerMessage: 480, seed: 1)
        }
        #expect(throws: SignalPlanner.ConfigurationError.self) {
            try SignalPlanner(signal: .impulse(period: .microseconds(500)), rate: .standard, channels: .mono, framesPerMessage: 480, seed: 1)
        }
    }
}
