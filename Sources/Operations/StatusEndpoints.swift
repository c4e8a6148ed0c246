import Core
import Foundation
import Receiver

/// The two pages of the operations port: `/metrics` and `/status`, made from a fresh snapshot
/// of the player at each request.
public enum StatusEndpoints {
    /// The responder for `receiver`, started at `started` (`CLOCK_MONOTONIC`), as version `version`.
    public static func responder(for receiver: Receiver, version: String, started: Nanoseconds) -> OperationsServer.Responder {
        let exporter = MetricsExporter()
        return { path in
            guard path == "/metrics" || path == "/status" else {
                return .init(status: .notFound, contentType: "text/plain; charset=utf-8", body: Array("not found; GET /metrics or /status\n".utf8))
            }
            do {
                let snapshot = try await StatusSnapshot.take(of: receiver, version: version, started: started, now: SystemMonotonicClock().now())
                if path == "/metrics" {
                    return .init(contentType: "text/plain; version=0.0.4; charset=utf-8", body: exporter.render(snapshot))
                }
                return .init(contentType: "application/json", body: Array(try json(snapshot)))
            } catch {
                return .init(status: .serviceUnavailable, contentType: "text/plain; charset=utf-8", body: Array("stopping: \(error)\n".utf8))
            }
        }
    }

    /// `/status`'s JSON: snake_case keys, sorted, indented.
    public static func json(_ snapshot: StatusSnapshot) throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(snapshot)
    }
}
