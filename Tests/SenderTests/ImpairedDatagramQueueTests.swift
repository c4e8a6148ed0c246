import Core
import Sender
import Testing

@Suite struct ImpairedDatagramQueueTests {
    /// Sends 10 000 numbered datagrams 10 ms apart and collects what leaves, with its time.
    static func run(_ impairments: NetworkImpairments, seed: UInt64 = 3) -> (sent: [(Int, Nanoseconds)], queue: ImpairedDatagramQueue) {
        var queue = ImpairedDatagramQueue(impairments: impairments, seed: seed)
        var sent: [(Int, Nanoseconds)] = []
        let spacing = Nanoseconds.milliseconds(10)
        for number in 0..<10_000 {
            let now = Nanoseconds(Int64(number) * spacing.rawValue)
            while let datagram = queue.popDue(at: now) { sent.append((Int(datagram[0]) << 8 | Int(datagram[1]), now)) }
            queue.submit([UInt8(number >> 8), UInt8(number & 255)], at: now, spacing: spacing)
            while let datagram = queue.popDue(at: now) { sent.append((Int(datagram[0]) << 8 | Int(datagram[1]), now)) }
        }
        sent += queue.drain().map { (Int($0[0]) << 8 | Int($0[1]), .seconds(1000)) }
        return (sent, queue)
    }

    @Test func lossDuplicationAndReorderingHappenAtTheirRates() {
        let (sent, queue) = Self.run(NetworkImpairments(loss: 0.05, reorder: 0.1, duplicate: 0.02))
        #expect((400...600).contains(queue.lost))
        #expect((140...260).contains(queue.duplicated))
        #expect((800...1_100).contains(queue.reordered))
        #expect(sent.count == 10_000 - queue.lost + queue.duplicated)
        let numbers = sent.map(\.0)
        let outOfOrder = zip(numbers, numbers.dropFirst()).filter { $0 > $1 }.count
        #expect(outOfOrder >= queue.reordered / 2)
    }

    @Test func burstLossLosesFramesInRunsAndKeepsTheFractionLost() {
        let (sent, queue) = Self.run(NetworkImpairments(loss: 0.05, lossBurst: 4))
        #expect((400...600).contains(queue.lost), "\(queue.lost) of 10 000 lost")
        // Every gap in the numbers is a whole number of runs (two runs may touch).
        let numbers = sent.map(\.0)
        let gaps = zip(numbers, numbers.dropFirst()).map { $1 - $0 - 1 }.filter { $0 > 0 }
        #expect(!gaps.isEmpty && gaps.allSatisfy { $0 % 4 == 0 }, "gaps \(Set(gaps).sorted())")
        #expect(gaps.count >= 80)  // about 500 / 4 runs, some touching
    }

    @Test func jitterDelaysEachDatagramWithinItsBound() {
        let (sent, queue) = Self.run(NetworkImpairments(jitter: .milliseconds(25)))
        #expect(queue.lost == 0 && sent.count == 10_000)
        // (The few still held at the end are drained at an arbitrary late time: left out.)
        let delays = sent.filter { $0.1 < .seconds(1000) }.map { ($0.1 - Nanoseconds(Int64($0.0) * 10_000_000)).rawValue }
        #expect(delays.count >= 9_990)
        // Delivery happens at the next 10 ms tick after the delay, so the bound is jitter + a tick.
        #expect(delays.allSatisfy { (0...35_000_000).contains($0) })
        #expect(Set(delays).count >= 3)  // spread over several 10 ms ticks
    }

    @Test func jitterThatStartsMidStreamLeavesTheEarlierDatagramsOnTime() {
        // 10 000 datagrams 10 ms apart; jitter of up to 25 ms from 50 s on (datagram 5 000).
        let (sent, _) = Self.run(NetworkImpairments(jitter: .milliseconds(25), jitterAfter: .seconds(50)))
        let delays = sent.filter { $0.1 < .seconds(1000) }.map { (number: $0.0, delay: ($0.1 - Nanoseconds(Int64($0.0) * 10_000_000)).rawValue) }
        #expect(delays.filter { $0.number < 5_000 }.allSatisfy { $0.delay == 0 })
        let later = delays.filter { $0.number >= 5_000 }.map(\.delay)
        #expect(later.count >= 4_990 && later.allSatisfy { (0...35_000_000).contains($0) } && Set(later).count >= 3)
    }

    @Test func theSameSeedRepeatsTheSameFaults() {
        let impairments = NetworkImpairments(loss: 0.1, reorder: 0.1, duplicate: 0.1, jitter: .milliseconds(5))
        #expect(Self.run(impairments).sent.map(\.0) == Self.run(impairments).sent.map(\.0))
        #expect(Self.run(impairments).sent.map(\.0) != Self.run(impairments, seed: 4).sent.map(\.0))
    }
}
