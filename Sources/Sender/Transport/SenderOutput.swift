import Authentication
import Core
import Foundation

/// Where the sender's lines go: a receiver over TCP or UDP (reconnecting, impairing) or a file.
///
/// Thread: the sender loop.
final class SenderOutput {
    /// The output file could not be opened.
    struct OpenError: Error, CustomStringConvertible {
        let description: String
    }

    private let output: SenderConfiguration.Output
    private let sessionID: String
    private let signer: LineSigner?
    private let log: (String) -> Void
    private var connection: SocketConnection?
    private var queue: ImpairedDatagramQueue
    private var file: FileHandle?
    private var fileBuffer: [UInt8] = []
    private var retryAt: Nanoseconds = .zero
    private var backoff: Nanoseconds = .milliseconds(100)
    private var reportedOutage = false
    private var answeredOnClosedConnections = 0

    /// True after a (re)connection until the loop has sent a calibration block on it.
    var needsCalibration = true

    init(_ output: SenderConfiguration.Output, sessionID: String, signer: LineSigner?, impairments: NetworkImpairments, seed: UInt64,
         log: @escaping (String) -> Void) throws {
        self.output = output
        self.sessionID = sessionID
        self.signer = signer
        self.log = log
        queue = ImpairedDatagramQueue(impairments: impairments, seed: seed ^ 0x5EED)
        if case .file(let path) = output {
            // open(2), not FileManager: it writes through devices and pipes (/dev/stdout) instead of replacing them.
            let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw OpenError(description: "\(path): \(SystemError.current)")
            }
            file = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        }
    }

    /// Whether lines can go out now, connecting if it is time to try.
    func isReady(now: Nanoseconds) -> Bool {
        guard case .network(let destination, let transport) = output else { return true }
        if let connection, connection.isOpen { return true }
        if let connection {
            answeredOnClosedConnections += connection.probesAnswered.value
            connection.close()
            self.connection = nil
            log("jamsend: lost the connection to \(destination); reconnecting")
        }
        guard now >= retryAt else { return false }
        do {
            connection = try SocketConnection(to: destination, transport: transport, sessionID: sessionID, signer: signer)
            needsCalibration = true
            backoff = .milliseconds(100)
            if reportedOutage { log("jamsend: connected to \(destination)") }
            reportedOutage = false
            return true
        } catch {
            if !reportedOutage { log("jamsend: cannot connect: \(error); retrying with backoff up to 2 s") }
            reportedOutage = true
            retryAt = now + backoff
            backoff = min(Nanoseconds(backoff.rawValue * 2), .seconds(2))
            return false
        }
    }

    /// Sends a line now (a calibration block, or a frame without impairments).
    @discardableResult
    func send(_ line: [UInt8]) -> Bool {
        if file != nil {
            fileBuffer += line
            if fileBuffer.count >= 1 << 20 { flushFile() }
            return true
        }
        return connection?.write(line) ?? false
    }

    /// Sends a frame through the impairments (UDP with faults configured), else now.
    func sendFrame(_ line: [UInt8], now: Nanoseconds, spacing: Nanoseconds) -> Bool {
        guard case .network(_, .udp) = output, !queue.impairments.isNone else { return send(line) }
        queue.submit(line, at: now, spacing: spacing)
        sendDue(now: now)
        return true
    }

    /// When the next impaired datagram is due.
    var nextDue: Nanoseconds? { queue.nextDue }

    /// Sends the impaired datagrams that are due.
    func sendDue(now: Nanoseconds) {
        while let datagram = queue.popDue(at: now) { send(datagram) }
    }

    /// Sends what is still held back and closes the output.
    func finish() {
        for datagram in queue.drain() { send(datagram) }
        flushFile()
        try? file?.close()
        connection?.close()
    }

    /// Counters the statistics show.
    func update(_ statistics: inout SenderStatistics) {
        statistics.probesAnswered = answeredOnClosedConnections + (connection?.probesAnswered.value ?? 0)
    }

    private func flushFile() {
        guard let file, !fileBuffer.isEmpty else { return }
        file.write(Data(fileBuffer))
        fileBuffer.removeAll(keepingCapacity: true)
    }
}
