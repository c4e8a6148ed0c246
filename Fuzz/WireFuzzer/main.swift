import CFuzzerDriver
#if canImport(Glibc)
import Glibc
#endif
import Core
import Wire

// libFuzzer harness for the framer and decoder (`make fuzz`). Each input is framed three ways
// (as one TCP read, split in two reads, as a datagram) and every line decoded; a message that
// decodes is encoded and decoded again and must come back the same. No crash, no unbounded memory.

nonisolated(unsafe) private var samples = [Float](repeating: 0, count: 4096)
nonisolated(unsafe) private var decoder = JamnetDecoder()

func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let limit = ByteCount(8192)

    var whole: [LineFramer.Event.Summary] = []
    var framer = LineFramer(limit: limit)
    framer.feed(input) { whole.append(check($0)) }
    framer.finish { whole.append(check($0)) }

    // The same bytes in two reads must frame to the same lines.
    var split: [LineFramer.Event.Summary] = []
    var splitFramer = LineFramer(limit: limit)
    let cut = size == 0 ? 0 : Int(data[0]) % (size + 1)
    splitFramer.feed(UnsafeRawBufferPointer(rebasing: input[..<cut])) { split.append(check($0)) }
    splitFramer.feed(UnsafeRawBufferPointer(rebasing: input[cut...])) { split.append(check($0)) }
    splitFramer.finish { split.append(check($0)) }
    precondition(whole == split, "framing depends on read boundaries")

    LineFramer.forEachLine(inDatagram: input, limit: limit) { _ = check($0) }
    return 0
}

private func check(_ event: LineFramer.Event) -> LineFramer.Event.Summary {
    guard case .line(let line, _) = event else { return event.summary }
    let decoded = samples.withUnsafeMutableBufferPointer { decoder.decode(line, samples: $0) }
    var encoded: [UInt8] = []
    switch decoded {
    case .audioFrame(let header, let count, _):
        let payload = Array(samples[..<count])
        try! JamnetEncoder().encode(header, samples: payload, into: &encoded)
        var again = [Float](repeating: 0, count: 4096)
        let redecoded = decoder.decode(encoded, samples: &again)
        precondition(redecoded == .audioFrame(header, sampleCount: count, clippedSampleCount: 0), "jdat round trip changed the header")
        precondition(Array(again[..<count]).elementsEqual(payload) { $0.bitPattern == $1.bitPattern }, "jdat round trip changed samples")
    case .syncCalibration(let block):
        try! JamnetEncoder().encode(block, into: &encoded)
        var again: [Float] = []
        precondition(decoder.decode(encoded, samples: &again) == decoded, "sync block round trip changed it")
    case .clockProbe(let probe):
        try! JamnetEncoder().encode(probe, into: &encoded)
        var again: [Float] = []
        precondition(decoder.decode(encoded, samples: &again) == decoded, "clock probe round trip changed it")
    case .clockEcho(let echo):
        try! JamnetEncoder().encode(echo, into: &encoded)
        var again: [Float] = []
        precondition(decoder.decode(encoded, samples: &again) == decoded, "clock echo round trip changed it")
    case .rejected:
        break
    }
    return event.summary
}

extension LineFramer.Event {
    /// A comparable record of the event (its bytes copied).
    struct Summary: Equatable {
        var bytes: [UInt8]
        var length: Int
        var number: Int
    }

    var summary: Summary {
        switch self {
        case .line(let bytes, let number): Summary(bytes: Array(bytes), length: bytes.count, number: number)
        case .tooLong(let length, let number): Summary(bytes: [], length: -length.rawValue, number: number)
        }
    }
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data!, size) })
