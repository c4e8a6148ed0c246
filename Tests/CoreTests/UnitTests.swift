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

    @Test(arguments: [("20ms", Int64(20_000_000)), ("1.5s", 1_500_000_000), ("1.5", 1_500_000_000), ("250us", 250_000), ("250µs", 250_000),
                      ("2min", 120_000_000_000), ("0", 0), ("7ns", 7)])
    func durationsAreReadWithTheirUnits(text: String, nanoseconds: Int64) {
        #expect(Nanoseconds(duration: text) == Nanoseconds(nanoseconds))
    }

    @Test(arguments: ["", "ms", "-1s", "20 parsecs", "1e400s", "fast"])
    func whatIsNotADurationIsRefused(text: String) {
        #expect(Nanoseconds(duration: text) == nil)
    }

    @Test func offsetsMayBeNegative() {
        #expect(Nanoseconds(signedDuration: "-2ms") == Nanoseconds(-2_000_000))
        #expect(Nanoseconds(signedDuration: "1.5ms") == Nanoseconds(1_500_000))
        #expect(Nanoseconds(signedDuration: "--2ms") == nil && Nanoseconds(signedDuration: "-") == nil)
    }

    @Test(arguments: [("1MiB", 1_048_576), ("64KiB", 65_536), ("64 KiB", 65_536), ("1MB", 1_000_000), ("64kB", 64_000), ("512B", 512),
                      ("4096", 4_096), ("1.5KiB", 1_536), ("2GiB", 2_147_483_648)])
    func sizesAreReadWithTheirUnits(text: String, bytes: Int) {
        #expect(ByteCount(size: text) == ByteCount(bytes))
    }

    @Test(arguments: ["", "MiB", "-1KiB", "0.5B", "1.0001KiB", "lots", "1 MiBs"])
    func whatIsNotASizeIsRefused(text: String) {
        #expect(ByteCount(size: text) == nil)
    }

    @Test func jamnetDefaultsAreMonoAt48kHz() {
        #expect(SampleRate.standard.hertz == 48_000 && SampleRate.supported.contains(44_100) && !SampleRate.supported.contains(0))
        #expect(ChannelCount.mono.rawValue == 1 && ChannelCount.supported == 1...64)
    }
}
