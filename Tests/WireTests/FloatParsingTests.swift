import Foundation
import Testing
@testable import Wire

/// Every number text maps to the nearest Float (ties to even); beyond the range is an error.
@Suite struct FloatParsingTests {
    @Test func shortestRepresentationOfRandomFloatsReadsBackExactly() throws {
        var random = SeededRandom(seed: 1)
        for _ in 0..<200_000 {
            let value = Float(bitPattern: UInt32(truncatingIfNeeded: random.next()))
            guard value.isFinite else { continue }
            let parsed = try #require(try parseFloat(value.description))
            #expect(parsed.bitPattern == value.bitPattern, "\(value.description)")
        }
    }

    @Test func randomSamplesInUnitRangeReadBackExactly() throws {
        var random = SeededRandom(seed: 2)
        for _ in 0..<200_000 {
            let value = Float.random(in: -1...1, using: &random)
            #expect(try parseFloat(value.description)?.bitPattern == value.bitPattern)
            // The 6-decimal form a simple sender writes is rounded correctly too.
            let sixDecimals = String(format: "%.6f", value)
            #expect(try parseFloat(sixDecimals) == Float(sixDecimals)!)
        }
    }

    @Test func randomDecimalTextMatchesGlibcStrtof() throws {
        // glibc's strtof (behind Float(String) on Linux) is exact: an independent oracle.
        var random = SeededRandom(seed: 3)
        for _ in 0..<100_000 {
            let digitCount = Int.random(in: 1...40, using: &random)
            var digits = String(Int.random(in: 1...9, using: &random))
            for _ in 1..<digitCount { digits.append(String(Int.random(in: 0...9, using: &random))) }
            let point = Int.random(in: 1...digitCount, using: &random)
            let mantissa = point == digitCount ? digits : "\(digits.prefix(point)).\(digits.dropFirst(point))"
            let text = "\(mantissa)e\(Int.random(in: -85...45, using: &random))"
            let expected = Float(text)!
            let parsed = try parseFloat(text)
            if expected.isInfinite {
                #expect(parsed == nil, "\(text)")
            } else {
                #expect(parsed?.bitPattern == expected.bitPattern, "\(text)")
            }
        }
    }

    @Test func exactMidpointsRoundToEvenAndTheSlightestExcessDecides() throws {
        var random = SeededRandom(seed: 4)
        for iteration in 0..<20_000 {
            // Normal and subnormal magnitudes alike.
            let bits = iteration % 4 == 0 ? UInt32.random(in: 1..<0x0080_0000, using: &random) : UInt32.random(in: 1..<0x7F7F_FFFF, using: &random)
            let low = Float(bitPattern: bits)
            let high = low.nextUp
            let midpoint = (Double(low) + Double(high)) / 2  // exact: 25 significant bits
            let exact = String(format: "%.200e", midpoint).replacingOccurrences(of: #"0+e"#, with: "e", options: .regularExpression)
            let even = low.significandBitPattern & 1 == 0 ? low : high
            #expect(try parseFloat(exact)?.bitPattern == even.bitPattern, "\(exact)")
            let (mantissa, exponent) = try #require(exact.split(separator: "e").map(String.init).pairs)
            // One more non-zero digit far beyond any double's precision tips it up.
            let above = "\(mantissa)000000000000000000000000000000000001e\(exponent)"
            #expect(try parseFloat(above)?.bitPattern == high.bitPattern, "\(above)")
            // Just below: the last digit of the exact expansion minus one, followed by nines.
            let below = "\(Self.decrementLastDigit(mantissa))99999999999999999999999999999e\(exponent)"
            #expect(try parseFloat(below)?.bitPattern == low.bitPattern, "\(below)")
        }
    }

    @Test(arguments: [
        ("1e-45", Float(bitPattern: 1)),
        ("1.401298464324817070923729583289916131280e-45", Float(bitPattern: 1)),
        ("7.006492321624085354618647916449580656401e-46", 0),  // exactly half the smallest: ties to even (0)
        ("7.006492321624085354618647916449580656402e-46", Float(bitPattern: 1)),
        ("-0.0", -0.0),
        ("-0", -0.0),
        ("0e999999999999", 0),
        ("3.4028235e38", .greatestFiniteMagnitude),
        ("340282356779733661637539395458142568447.9999", .greatestFiniteMagnitude),  // just below the overflow threshold
        ("1.17549435e-38", .leastNormalMagnitude),
        ("1.1754942e-38", Float(bitPattern: 0x007F_FFFF)),
        ("0.1", 0.1),
        ("16777217", 16_777_216),  // 2^24 + 1: tie, to even
        ("16777219", 16_777_220),
        ("1.00000005960464477539062500000000000000000000000000001", Float(bitPattern: 0x3F80_0001)),
        ("1.000000059604644775390625", 1.0),  // exactly halfway above 1: to even
        ("0.000000000000000000000000000000000000000000001401298464324817070923729583289916131280", Float(bitPattern: 1)),
        ("100000000000000000000000000000000000000", 1e38),
        ("4.7019774032891500318749461488889827112746622270883500860350068251e-38", Float(bitPattern: 0x0180_0000)),  // 2^-124 exactly
        ("1e-46", 0),
    ] as [(String, Float)])
    func hardCasesRoundCorrectly(text: String, expected: Float) throws {
        #expect(try parseFloat(text)?.bitPattern == expected.bitPattern)
    }

    @Test(arguments: ["3.4028236e38", "1e39", "-1e39", "340282356779733661637539395458142568448", "1e999999999999999999999", "-3.5e38"])
    func beyondTheFloatRangeIsOutOfRange(text: String) throws {
        #expect(try parseFloat(text) == nil)
        #expect(rejection("{\"type\":\"jdat\",\"timestamp_cpu\":0,\"payload\":[0,\(text)]}")
            == .invalidField(InvalidField(.payload, .elementOutOfRange(index: 1))))
    }

    @Test func longMantissasOfAThousandDigitsRoundCorrectly() throws {
        let ones = String(repeating: "1", count: 1000)
        #expect(try parseFloat("0.\(ones)") == Float("0.\(ones)")!)
        #expect(try parseFloat("\(ones)e-990") == Float("\(ones)e-990")!)
        let zeros = String(repeating: "0", count: 1000)
        #expect(try parseFloat("0.\(zeros)1e1000") == 0.1)
        #expect(try parseFloat("1\(zeros)e-1000") == 1)
    }

    @Test func digitRunsAreFoundForEveryByteValueAtEveryPosition() {
        for position in 0..<8 {
            for byte in 0...255 {
                var bytes = [UInt8](repeating: UInt8(ascii: "7"), count: 8)
                bytes[position] = UInt8(byte)
                let chunk = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                let isDigit = (0x30...0x39).contains(byte)
                #expect(JSONReader.leadingDigitCount(chunk) == (isDigit ? 8 : position), "byte \(byte) at \(position)")
                if position > 0 {
                    #expect(JSONReader.digitsValue(chunk, count: position) == UInt64(String(repeating: "7", count: position))!)
                }
            }
        }
        let chunk = Array("90817263".utf8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        #expect(JSONReader.digitsValue(chunk, count: 8) == 90_817_263)
        #expect(JSONReader.digitsValue(chunk, count: 3) == 908)
    }

    private static func decrementLastDigit(_ mantissa: String) -> String {
        var characters = Array(mantissa)
        var index = characters.count - 1
        while characters[index] == "0" || characters[index] == "." {
            if characters[index] == "0" { characters[index] = "9" }
            index -= 1
        }
        characters[index] = Character(String(characters[index].wholeNumberValue! - 1))
        return String(characters)
    }
}

extension Array {
    fileprivate var pairs: (Element, Element)? { count == 2 ? (self[0], self[1]) : nil }
}
