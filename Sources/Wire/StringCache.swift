/// Recently seen short strings by their bytes, so steady streams decode ids without allocating.
///
/// A stream sends the same `session_id` and `stream_id` on every frame; the cache hands back the
/// `String` made the first time. Thread: the decoding thread. Non-allocating on a hit.
struct StringCache {
    static let capacity = 8
    private var entries: [(bytes: [UInt8], string: String)] = []
    private var nextVictim = 0

    /// The string whose UTF-8 is `bytes` (which must be valid UTF-8).
    mutating func string(for bytes: UnsafeBufferPointer<UInt8>) -> String {
        for index in 0..<entries.count where entries[index].bytes.count == bytes.count {
            if entries[index].bytes.withUnsafeBufferPointer({ memoryEqual($0, bytes) }) { return entries[index].string }
        }
        let string = String(decoding: bytes, as: UTF8.self)
        let entry = (bytes: Array(bytes), string: string)
        if entries.count < Self.capacity {
            entries.append(entry)
        } else {
            entries[nextVictim] = entry
            nextVictim = (nextVictim + 1) % Self.capacity
        }
        return string
    }

    private func memoryEqual(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool {
        for index in 0..<lhs.count where lhs[index] != rhs[index] { return false }
        return true
    }
}
