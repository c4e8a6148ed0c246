import CoreMetrics
import Prometheus
import Synchronization

/// `/metrics`: the status snapshot as swift-metrics counters and gauges, emitted in Prometheus
/// text format by swift-prometheus. The player's own counters are atomics read at each scrape;
/// this carries their increase since the last scrape into the metrics.
///
/// Thread: any (scrapes are serialized by a lock).
public final class MetricsExporter: Sendable {
    private struct State {
        var counters: [String: (metric: CoreMetrics.Counter, reported: Int)] = [:]
        var gauges: [String: CoreMetrics.Gauge] = [:]
        /// Per session (and its streams): the gauges made for it, destroyed when it ends.
        var sessionGauges: [String: [String: CoreMetrics.Gauge]] = [:]
    }

    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let state = Mutex(State())

    /// Makes an exporter with a registry of its own.
    public init() {
        factory = PrometheusMetricsFactory(registry: registry)
    }

    /// The metrics of `snapshot` in Prometheus text format (version 0.0.4).
    public func render(_ snapshot: StatusSnapshot) -> [UInt8] {
        state.withLock { state in
            for (name, value) in snapshot.counters {
                if name.hasSuffix("_total") {
                    count("jamplay_" + name, [], value, in: &state)
                } else {
                    gauge("jamplay_" + name, [], Double(value), in: &state.gauges)
                }
            }
            for (lineClass, value) in snapshot.rejectedLines {
                count("jamplay_ingest_rejected_lines_total", [("class", lineClass)], value, in: &state)
            }
            for (reason, value) in snapshot.unauthenticatedLines {
                count("jamplay_ingest_unauthenticated_lines_total", [("reason", reason)], value, in: &state)
            }
            gauge("jamplay_uptime_seconds", [], snapshot.uptimeSeconds, in: &state.gauges)
            gauge("jamplay_latency_seconds", [], Double(snapshot.latencyNanoseconds) * 1e-9, in: &state.gauges)
            gauge("jamplay_device_open", [], snapshot.device?.open == true ? 1 : 0, in: &state.gauges)
            var seen = Set<String>()
            for session in snapshot.sessions {
                let key = "\(session.source) \(session.sessionID ?? "")"
                seen.insert(key)
                var gauges = state.sessionGauges[key] ?? [:]
                let labels = [("source", session.source), ("session", session.sessionID ?? "")]
                let calibration = session.calibration, host = session.hostClock
                gauge("jamplay_session_clock_offset_seconds", labels, Double(calibration.offsetNanoseconds) * 1e-9, in: &gauges)
                gauge("jamplay_session_clock_skew_ppm", labels, calibration.skewPPM, in: &gauges)
                gauge("jamplay_session_clock_residual_seconds", labels, Double(calibration.residualNanoseconds) * 1e-9, in: &gauges)
                gauge("jamplay_session_calibration_blocks", labels, Double(calibration.blocksUsed), in: &gauges)
                gauge("jamplay_session_calibration_age_seconds", labels, calibration.lastBlockAgeSeconds ?? .infinity, in: &gauges)
                gauge("jamplay_session_host_offset_seconds", labels, Double(host.offsetNanoseconds) * 1e-9, in: &gauges)
                gauge("jamplay_session_idle_seconds", labels, session.idleSeconds, in: &gauges)
                for stream in session.streams {
                    let streamLabels = labels + [("stream", stream.id ?? "")]
                    gauge("jamplay_stream_drift_ppm", streamLabels, stream.driftPPM, in: &gauges)
                    gauge("jamplay_stream_buffered_seconds", streamLabels, stream.bufferedSeconds, in: &gauges)
                    gauge("jamplay_stream_frames_stored", streamLabels, Double(stream.framesStored), in: &gauges)
                    gauge("jamplay_stream_gap_frames", streamLabels, Double(stream.gapFrames), in: &gauges)
                    gauge("jamplay_stream_concealed_frames", streamLabels, Double(stream.concealedFrames), in: &gauges)
                    gauge("jamplay_stream_longest_concealed_gap_seconds", streamLabels, stream.longestConcealedGapSeconds, in: &gauges)
                    if let needed = stream.latencyNeededNanoseconds {
                        gauge("jamplay_stream_latency_needed_seconds", streamLabels, Double(needed) * 1e-9, in: &gauges)
                    }
                    for (quantile, margin) in [("0.5", stream.arrivalMarginP50Nanoseconds), ("0.99", stream.arrivalMarginP99Nanoseconds)] {
                        guard let margin else { continue }
                        gauge("jamplay_stream_arrival_margin_seconds", streamLabels + [("quantile", quantile)], Double(margin) * 1e-9, in: &gauges)
                    }
                }
                state.sessionGauges[key] = gauges
            }
            for (key, gauges) in state.sessionGauges where !seen.contains(key) {
                for metric in gauges.values { metric.destroy() }
                state.sessionGauges[key] = nil
            }
        }
        return registry.emitToBuffer()
    }

    private func count(_ name: String, _ labels: [(String, String)], _ value: Int, in state: inout State) {
        let key = Self.key(name, labels)
        let entry = state.counters[key] ?? (CoreMetrics.Counter(label: name, dimensions: labels, factory: factory), 0)
        if value > entry.reported { entry.metric.increment(by: value - entry.reported) }
        state.counters[key] = (entry.metric, max(value, entry.reported))
    }

    private func gauge(_ name: String, _ labels: [(String, String)], _ value: Double, in gauges: inout [String: CoreMetrics.Gauge]) {
        let key = Self.key(name, labels)
        let metric = gauges[key] ?? CoreMetrics.Gauge(label: name, dimensions: labels, factory: factory)
        gauges[key] = metric
        metric.record(value)
    }

    private static func key(_ name: String, _ labels: [(String, String)]) -> String {
        name + labels.map { "|\($0.0)=\($0.1)" }.joined()
    }
}
