/// Which `auth_counter`s a session has used: the newest, and which of the ``width`` before it.
///
/// A counter is accepted once: newer than any seen, or within the window and not seen; older than
/// the window or seen again, it is a replay. Fixed size, no allocation. Thread: its owner's.
public struct ReplayWindow: Sendable {
    /// Counters remembered behind the newest (lines that may arrive out of order).
    public static let width: UInt64 = 1_024

    private var newest: UInt64?
    /// Bit `counter % width` set: that counter was seen (for the `width` counters up to `newest`).
    private var seen = InlineArray<16, UInt64>(repeating: 0)

    /// Makes an empty window.
    public init() {}

    /// Accepts `counter` if it is fresh, and remembers it; false for a replay.
    public mutating func accept(_ counter: UInt64) -> Bool {
        guard let newest else {
            self.newest = counter
            mark(counter)
            return true
        }
        if counter > newest {
            let advance = counter - newest
            if advance >= Self.width {
                seen = InlineArray(repeating: 0)
            } else {
                var cleared = newest
                while cleared != counter {
                    cleared += 1
                    clear(cleared)
                }
            }
            self.newest = counter
            mark(counter)
            return true
        }
        guard newest - counter < Self.width, !isMarked(counter) else { return false }
        mark(counter)
        return true
    }

    private func isMarked(_ counter: UInt64) -> Bool {
        let bit = counter % Self.width
        return seen[Int(bit / 64)] & (1 << (bit % 64)) != 0
    }

    private mutating func mark(_ counter: UInt64) {
        let bit = counter % Self.width
        seen[Int(bit / 64)] |= 1 << (bit % 64)
    }

    private mutating func clear(_ counter: UInt64) {
        let bit = counter % Self.width
        seen[Int(bit / 64)] &= ~(1 << (bit % 64))
    }
}
