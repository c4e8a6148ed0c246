import Core
import Testing
@testable import Wire

/// The tests' seeded generator.
typealias SeededRandom = SeededRandomNumberGenerator

/// Decodes one line of text with a fresh decoder and a buffer of `capacity` samples.
func decode(_ line: String, capacity: Int = 4096) -> (DecodedLine, [Float]) {
    var decoder = JamnetDecoder()
    var samples = [Float](repeating: .nan, count: capacity)
    let result = decoder.decode(Array(line.utf8), samples: &samples)
    if case .audioFrame(_, let count, _) = result { return (result, Array(samples[..<count])) }
    return (result, [])
}

/// The class a line decodes to.
func lineClass(_ line: String) -> LineClass { decode(line).0.lineClass }

/// The rejection of a line, if any.
func rejection(_ line: String) -> LineRejection? {
    if case .rejected(let reason) = decode(line).0 { return reason }
    return nil
}

/// The decoder's number reader on `text`: the nearest Float, nil when beyond the Float range.
///
/// Read twice, at the end of a line (the bounds-checked path) and followed by padding (the short
/// path that needs room after the number): both must agree, bit for bit.
func parseFloat(_ text: String) throws -> Float? {
    let atEnd = Result { try readFloat(text, padding: 0) }
    let padded = Result { try readFloat(text, padding: 40) }
    switch (atEnd, padded) {
    case (.success(let a), .success(let b)) where a?.bitPattern == b?.bitPattern: break
    case (.failure(let a as JSONSyntaxError), .failure(let b as JSONSyntaxError)) where a == b: break
    default: Issue.record("the two number paths disagree on \(text): \(atEnd) vs \(padded)")
    }
    return try atEnd.get()
}

private func readFloat(_ text: String, padding: Int) throws -> Float? {
    let bytes = Array(text.utf8) + [UInt8](repeating: UInt8(ascii: " "), count: padding)
    return try bytes.withUnsafeBytes { (raw) throws -> Float? in
        var reader = JSONReader(raw)
        let value = try reader.readSample()
        guard reader.position == text.utf8.count else { throw reader.error(.trailingCharacters) }
        return value.isNaN ? nil : value
    }
}
