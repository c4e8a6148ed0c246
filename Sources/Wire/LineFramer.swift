import Core
#if canImport(Glibc)
import Glibc
#endif

/// Splits a TCP byte stream into jamnet lines, incrementally across reads.
///
/// Lines end with `\n` (a `\r` before it is dropped); empty lines are skipped. A line whose content
/// exceeds `limit` is discarded up to its newline and reported once with its length; memory never
/// exceeds `limit` + 1 bytes however long the line. Complete lines inside one read are handed over
/// in place, without copying. Thread: the connection's ingest thread.
public struct LineFramer {
    /// One framing result, valid only during the callback.
    public enum Event {
        /// A complete line without its line ending; `number` counts every line from 1.
        case line(UnsafeRawBufferPointer, number: Int)
        /// A line longer than the limit, discarded; `length` counts its bytes up to the newline.
        case tooLong(length: ByteCount, number: Int)
    }

    /// The longest line content accepted.
    public let limit: ByteCount
    /// The unfinished line carried between reads (at most `limit` + 1 bytes: the content and a `\r`).
    private var pending: [UInt8] = []
    /// Bytes of an overlong line seen so far, while skipping to its newline.
    private var discarded = 0
    private var isDiscarding = false
    private var lineNumber = 0

    /// Makes a framer; the jamnet default limit is 1 MiB.
    public init(limit: ByteCount = .mebibytes(1)) {
        precondition(limit.rawValue > 0, "line limit must be positive")
        self.limit = limit
    }

    /// Bytes allocated for an unfinished line: `limit` + 1 at most (plus the allocator's rounding).
    var bufferedByteCount: Int { pending.capacity }

    /// Frames one read's bytes, calling `body` for each line completed by them.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, _ body: (Event) -> Void) {
        guard let base = chunk.baseAddress else { return }
        var start = 0
        while start < chunk.count {
            guard let found = memchr(base + start, 0x0A, chunk.count - start) else {
                keep(UnsafeRawBufferPointer(rebasing: chunk[start...]))
                return
            }
            let newline = base.distance(to: UnsafeRawPointer(found))
            let piece = UnsafeRawBufferPointer(rebasing: chunk[start..<newline])
            lineNumber += 1
            if isDiscarding {
                body(.tooLong(length: ByteCount(discarded + piece.count), number: lineNumber))
                isDiscarding = false
                discarded = 0
            } else if pending.isEmpty {
                emit(piece, body)
            } else if pending.count + piece.count > limit.rawValue + 1 {
                body(.tooLong(length: ByteCount(pending.count + piece.count), number: lineNumber))
                pending.removeAll(keepingCapacity: true)
            } else {
                append(piece)
                pending.withUnsafeBytes { emit($0, body) }
                pending.removeAll(keepingCapacity: true)
            }
            start = newline + 1
        }
    }

    /// Ends the stream: a last line without a newline is still a line.
    public mutating func finish(_ body: (Event) -> Void) {
        if isDiscarding {
            lineNumber += 1
            body(.tooLong(length: ByteCount(discarded), number: lineNumber))
        } else if !pending.isEmpty {
            lineNumber += 1
            pending.withUnsafeBytes { emit($0, body) }
        }
        pending.removeAll(keepingCapacity: true)
        isDiscarding = false
        discarded = 0
    }

    /// Frames one UDP datagram: one or more lines, the last newline optional.
    public static func forEachLine(inDatagram datagram: UnsafeRawBufferPointer, limit: ByteCount = .mebibytes(1), _ body: (Event) -> Void) {
        var framer = LineFramer(limit: limit)
        framer.feed(datagram, body)
        framer.finish(body)
    }

    private mutating func keep(_ rest: UnsafeRawBufferPointer) {
        if isDiscarding {
            discarded += rest.count
        } else if pending.count + rest.count > limit.rawValue + 1 {
            isDiscarding = true
            discarded = pending.count + rest.count
            pending.removeAll(keepingCapacity: true)
        } else {
            append(rest)
        }
    }

    /// Appends to the unfinished line, growing its buffer geometrically but never past the limit.
    private mutating func append(_ bytes: UnsafeRawBufferPointer) {
        let needed = pending.count + bytes.count
        if needed > pending.capacity { pending.reserveCapacity(min(limit.rawValue + 1, max(needed, 2 * pending.capacity))) }
        pending.append(contentsOf: bytes)
    }

    private func emit(_ line: UnsafeRawBufferPointer, _ body: (Event) -> Void) {
        var content = line
        if let last = content.last, last == 0x0D { content = UnsafeRawBufferPointer(rebasing: content.dropLast()) }
        if content.isEmpty { return }
        if content.count > limit.rawValue {
            body(.tooLong(length: ByteCount(line.count), number: lineNumber))
        } else {
            body(.line(content, number: lineNumber))
        }
    }
}
