import Core

/// When the playback loop mixes each device period, as ingest reads it to know how late a frame
/// may arrive: the periods' grid on `CLOCK_MONOTONIC` (when one's first frame is heard, and how
/// long a period lasts) and how long before that the loop mixes it.
///
/// Thread: the playback thread publishes (RT: lock-free, non-allocating, a few stores); any other
/// thread reads (it waits out a publish in progress).
public final class PublishedDeviceSchedule: Sendable {
    /// One consistent copy.
    public struct Schedule: Hashable, Sendable {
        /// When a period's first frame is heard; the others follow every `period`.
        public var periodStart: Nanoseconds
        /// How long a device period lasts (the device's measured rate).
        public var period: Nanoseconds
        /// How long before its first frame is heard a period is mixed: the fill and the mixing time.
        public var mixLead: Nanoseconds
        /// How far beyond a period's last frame its mix reads a stream (its resampler's reach).
        public var readAhead: Nanoseconds

        /// Makes a schedule.
        public init(periodStart: Nanoseconds, period: Nanoseconds, mixLead: Nanoseconds, readAhead: Nanoseconds = .zero) {
            self.periodStart = periodStart
            self.period = period
            self.mixLead = mixLead
            self.readAhead = readAhead
        }

        /// The least latency at which a frame whose first sample's local time is `firstSample`,
        /// arriving at `arrival`, is in its ring before the first period that reads it is mixed
        /// (the one playing `readAhead` before it): that period must start no earlier than the
        /// first period mixed after the arrival. Nil when the figures are beyond what a latency
        /// can be (a clock far off).
        public func latencyNeeded(firstSample: Nanoseconds, arrival: Nanoseconds) -> Nanoseconds? {
            guard period > .zero, arrival.isWithinNetworkLimit, firstSample.isWithinNetworkLimit, periodStart.isWithinNetworkLimit,
                  mixLead.isWithinNetworkLimit, readAhead.isWithinNetworkLimit else { return nil }
            // The first period start at or after arrival + mixLead.
            let earliest = arrival + mixLead - periodStart
            let periods = (Double(earliest.rawValue) / Double(period.rawValue)).rounded(.up)
            let start = Double(periodStart.rawValue) + periods * Double(period.rawValue)
            let needed = start - Double(firstSample.rawValue) + Double(readAhead.rawValue)
            guard needed.magnitude < 0x1p62 else { return nil }
            return Nanoseconds(Int64(needed))
        }
    }

    private let words = SequenceLockedWords()

    /// Makes a schedule with nothing published.
    public init() {}

    /// Publishes the schedule. Thread: playback (RT). Lock-free, non-allocating.
    public func publish(_ schedule: Schedule) {
        words.publish((schedule.periodStart.rawValue, schedule.period.rawValue, schedule.mixLead.rawValue, schedule.readAhead.rawValue))
    }

    /// The latest schedule, nil before the first publish.
    public var schedule: Schedule? {
        guard case .consistent(let words) = words.read() else { return nil }
        return Schedule(periodStart: Nanoseconds(words.0), period: Nanoseconds(words.1), mixLead: Nanoseconds(words.2),
                        readAhead: Nanoseconds(words.3))
    }
}
