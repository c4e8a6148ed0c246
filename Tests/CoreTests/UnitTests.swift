import Core
import Testing

/// The unit types: exact arithmetic and readable text.
@Suite struct UnitTests {
    @Test func nanosecondsConvertFromLargerUnitsExactly() {
        #expect(Nanoseconds.milliseconds(20) == Nanoseconds(20_000_000))
        #expect(Nanoseconds.seconds(3) - .microseconds(1) == Nanoseconds(2_999_999_000))
        #expect(-Nanoseconds(5) + .zero == Nanoseconds(-5))
        var value = Nanoseconds(Int64.max - 1)
        value += Nanoseconds(1)
        #expect(value.rawValue == .max)
    }

    @Test(arguments: [(Int64(12), "12ns"), (1_500, "1.5us"), (20_000_000, "20.0ms"), (-2_500_000_000, "-2.5s")])
    func nanosecondsPrintInTheLargestReadableUnit(value: Int64, text: String) {
        #expect(Nanoseconds(value).description == text)
    }

    @Test func byteCountsPrintInBinaryUnits() {
        #expect(ByteCount.mebibytes(1).description == "1 MiB")
        #expect(ByteCount.kibibytes(64).description == "64 KiB")
        #expect(ByteCount(1500).description == "1500 B")
        #expect(ByteCount(0).description == "0 B")
    }

    @Test func jamnetDefaultsAreMonoAt48kHz() {
        #expect(SampleRate.standard.hertz == 48_000 && SampleRate.supported.contains(44_100) && !SampleRate.supported.contains(0))
        #expect(ChannelCount.mono.rawValue == 1 && ChannelCount.supported == 1...64)
    }
}
