import Synchronization

/// The streams the real-time thread plays: a fixed table of slots handed over with atomics.
///
/// A normal thread attaches a stream (making its `PlaybackStream`, which allocates) and later asks
/// to detach it; the playback thread sees attached slots, and acknowledges a detach request, after
/// which it never touches that stream again and the normal thread frees it. The playback thread
/// only loads and stores slot states and borrows each stream without retaining it.
/// Thread: `attach`/`detach`/`collect` on one control thread; `forEachPlaying` on playback (RT).
public final class StreamSlots: @unchecked Sendable {
    private enum State: Int {
        case free, playing, detachRequested, released
    }

    /// How many streams can play at once.
    public let capacity: Int
    private let states: UnsafeMutablePointer<Atomic<Int>>
    // Control-thread owned: the streams (each keeps its hand-off, ring and timeline alive).
    private var streams: [PlaybackStream?]
    // Read by the playback thread after it sees `playing`: stable while the slot is not free.
    private let pointers: UnsafeMutablePointer<Unmanaged<PlaybackStream>?>

    /// Makes `capacity` empty slots.
    public init(capacity: Int) {
        self.capacity = capacity
        states = .allocate(capacity: capacity)
        for slot in 0..<capacity { (states + slot).initialize(to: Atomic<Int>(State.free.rawValue)) }
        streams = Array(repeating: nil, count: capacity)
        pointers = .allocate(capacity: capacity)
        pointers.initialize(repeating: nil, count: capacity)
    }

    deinit {
        states.deinitialize(count: capacity)
        states.deallocate()
        pointers.deallocate()
    }

    /// Starts playing `stream`; returns its slot, or nil when every slot is taken.
    public func attach(_ stream: PlaybackStream) -> Int? {
        collect()
        guard let slot = (0..<capacity).first(where: { states[$0].load(ordering: .acquiring) == State.free.rawValue }) else { return nil }
        streams[slot] = stream
        pointers[slot] = Unmanaged.passUnretained(stream)
        states[slot].store(State.playing.rawValue, ordering: .releasing)
        return slot
    }

    /// Asks the playback thread to let go of `slot`; `collect` frees it once it has.
    public func detach(_ slot: Int) {
        _ = states[slot].compareExchange(expected: State.playing.rawValue, desired: State.detachRequested.rawValue, ordering: .acquiringAndReleasing)
    }

    /// Frees the slots the playback thread has released. With no playback thread running, call
    /// `releaseAll(playbackStopped:)` instead.
    public func collect() {
        for slot in 0..<capacity where states[slot].load(ordering: .acquiring) == State.released.rawValue {
            free(slot)
        }
    }

    /// While no playback thread runs: releases every slot asked to detach.
    public func releaseDetached() {
        for slot in 0..<capacity where states[slot].load(ordering: .acquiring) == State.detachRequested.rawValue {
            free(slot)
        }
    }

    /// Calls `body` with each playing stream; acknowledges detach requests.
    /// Thread: playback (RT). Lock-free, non-allocating, no reference counting.
    @inline(__always)
    public func forEachPlaying(_ body: (PlaybackStream) -> Void) {
        for slot in 0..<capacity {
            let state = states[slot].load(ordering: .acquiring)
            if state == State.playing.rawValue, let pointer = pointers[slot] {
                pointer._withUnsafeGuaranteedRef { body($0) }
            } else if state == State.detachRequested.rawValue {
                states[slot].store(State.released.rawValue, ordering: .releasing)
            }
        }
    }

    /// Whether no slot holds a stream (playing, or waiting for its first sample).
    /// Thread: any (atomic loads only; RT-safe).
    public var isEmpty: Bool {
        for slot in 0..<capacity where states[slot].load(ordering: .relaxed) == State.playing.rawValue { return false }
        return true
    }

    private func free(_ slot: Int) {
        pointers[slot] = nil
        streams[slot] = nil
        states[slot].store(State.free.rawValue, ordering: .releasing)
    }
}
