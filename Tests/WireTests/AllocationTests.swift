import Foundation
import AllocationCounter
import Core
import Testing
import Wire

/// Steady-state decoding allocates nothing: not per sample, not per frame.
@Suite(.enabled(if: allocation_counter_available() == 1, "sanitizer build: the allocation counter cannot interpose malloc"))
struct AllocationTests {
    /// With `signed`, each line also carries jamnet/1.2's signature fields (a made-up code: the
    /// decoder only reads them; checking is the key's).
    @Test(arguments: [false, true])
    func decodingASteadyStreamAllocatesNothing(signed: Bool) throws {
        var lines: [[UInt8]] = []
        for sequence in 0..<64 {
            var line: [UInt8] = []
            let samples = (0..<960).map { Float(sin(Double($0 + sequence * 960) * 0.0654)) * 0.8 }
            try JamnetEncoder().encode(
                AudioFrameHeader(timestamp: .gpu(1_000_000 + Int64(sequence) * 10_000_000), sessionID: "a-session-id-longer-than-fifteen",
                                 streamID: "main", sequence: UInt64(sequence), channelCount: ChannelCount(2)),
                samples: samples, into: &line)
            if signed {
                LineSignature.appendFields(keyID: "a-key-id-longer-than-fifteen", counter: UInt64(sequence) + 1, to: &line)
                LineSignature.appendCode([UInt8](repeating: 0xA5, count: LineSignature.codeBytes), to: &line)
            }
            lines.append(line)
        }
        // The counted loop touches only pointers and integers: unoptimized generic collection
        // code in the test itself would allocate.
        let stream = UnsafeMutableRawBufferPointer.allocate(byteCount: lines.reduce(0) { $0 + $1.count }, alignment: 1)
        let ends = UnsafeMutableBufferPointer<Int>.allocate(capacity: lines.count)
        defer { stream.deallocate(); ends.deallocate() }
        var end = 0
        for (index, line) in lines.enumerated() {
            stream.baseAddress!.advanced(by: end).copyMemory(from: line, byteCount: line.count)
            end += line.count
            ends[index] = end
        }
        var decoder = JamnetDecoder()
        let samples = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4096)
        defer { samples.deallocate() }
        // Warm-up: the id cache fills once.
        _ = decoder.decode(UnsafeRawBufferPointer(rebasing: stream[0..<ends[0]]), samples: samples)

        var decoded = 0
        allocation_counter_start()
        var round = 0
        while round < 20 {
            var index = 0
            var start = 0
            while index < ends.count {
                let line = UnsafeRawBufferPointer(start: stream.baseAddress! + start, count: ends[index] - start)
                if case .audioFrame(_, 960, _) = decoder.decode(line, samples: samples) { decoded += 1 }
                start = ends[index]
                index += 1
            }
            round += 1
        }
        let allocations = allocation_counter_stop()
        #expect(decoded == 20 * 64)
        #expect(allocations == 0)
    }

    @Test func theCounterSeesAnAllocation() {
        allocation_counter_start()
        let array = [Int](repeating: 1, count: Int.random(in: 100...200))
        let allocations = allocation_counter_stop()
        #expect(array.count >= 100 && allocations >= 1)
    }
}
