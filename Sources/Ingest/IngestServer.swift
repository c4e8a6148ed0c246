import Authentication
import Buffer
import Core
import NIOCore
import NIOPosix
import Synchronization
import Wire

/// The network side of the receiver: TCP and UDP listeners on one port feeding a ``SessionTable``.
///
/// Everything runs on one event loop — the ingest thread — which is therefore the single producer
/// of every stream's ring. TCP connections get their own line framer; UDP datagrams (read whole, up
/// to 64 KiB) are framed one by one. Connections over the limit are refused, and a connection
/// that completes no line for the idle timeout is closed (a byte now and then does not keep it);
/// silent sessions are expired every second.
/// Thread: `start`/`stop` from any task; the table only on the event loop (``withTable(_:)``).
public final class IngestServer: Sendable {
    public let configuration: IngestConfiguration
    public let counters: IngestCounters
    /// The memory the streams' rings take, within `--max-buffer`.
    public let budget: BufferBudget
    private let listen: ListenAddress
    private let useTCP: Bool
    private let useUDP: Bool
    private let clock: any MonotonicClock
    private let group: MultiThreadedEventLoopGroup
    private let loop: any EventLoop
    private let table: NIOLoopBoundBox<SessionTable>
    private let connections: NIOLoopBoundBox<Int>
    /// Where to send a source's probes: its TCP connection, or the UDP socket (key: transport only).
    private let replyChannels: NIOLoopBoundBox<[SourceKey: any Channel]>
    private let channels = Mutex<[any Channel]>([])

    /// Makes a server (nothing is bound until ``start()``). `isSameHost` tells the senders that
    /// share our clock: by default loopback and this host's interface addresses. `streamEvents`
    /// hears of streams starting and ending, `sessionEvents` of session changes and bad input, on
    /// the ingest thread.
    public init(
        listen: ListenAddress, tcp: Bool = true, udp: Bool = true, configuration: IngestConfiguration = IngestConfiguration(),
        clock: any MonotonicClock = SystemMonotonicClock(), isSameHost: (@Sendable (SourceKey) -> Bool)? = nil,
        streamEvents: SessionTable.StreamEvents? = nil, sessionEvents: SessionTable.SessionEvents? = nil
    ) {
        self.listen = listen
        self.useTCP = tcp
        self.useUDP = udp
        self.configuration = configuration
        self.clock = clock
        let counters = IngestCounters()
        self.counters = counters
        let budget = BufferBudget(limit: configuration.maximumBufferBytes, perStreamLimit: configuration.maximumStreamBufferBytes)
        self.budget = budget
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        // Made here, used only on the loop from now on.
        let isSameHost = isSameHost ?? Self.isOnThisHost(addresses: Self.interfaceAddresses())
        let replies = NIOLoopBoundBox<[SourceKey: any Channel]>.makeBoxSendingValue([:], eventLoop: loop)
        replyChannels = replies
        table = .makeBoxSendingValue(
            SessionTable(configuration: configuration, counters: counters, budget: budget, isSameHost: isSameHost, streamEvents: streamEvents,
                         sessionEvents: sessionEvents, send: { source, line in Self.send(line, to: source, replies: replies.value) }),
            eventLoop: loop)
        connections = .makeBoxSendingValue(0, eventLoop: loop)
    }

    /// Binds the listeners; returns the ports bound (useful with port 0 in tests).
    @discardableResult
    public func start() async throws -> (tcp: Int?, udp: Int?) {
        // `:PORT` binds the IPv6 wildcard, which on Linux also takes IPv4 (dual stack).
        let host = listen.isMulticast ? (listen.host!.contains(":") ? "::" : "0.0.0.0") : (listen.host ?? "::")
        var port = listen.port
        var tcpPort: Int?, udpPort: Int?
        if useTCP && !listen.isMulticast {
            let channel = try await tcpBootstrap().bind(host: host, port: port).get()
            channels.withLock { $0.append(channel) }
            tcpPort = channel.localAddress?.port
            port = tcpPort ?? port
        }
        if useUDP {
            let channel = try await udpBootstrap().bind(host: host, port: port).get()
            channels.withLock { $0.append(channel) }
            if listen.isMulticast, let group = listen.host, let multicast = channel as? any MulticastChannel {
                let groupAddress = try SocketAddress(ipAddress: group, port: listen.port)
                var device: NIONetworkDevice?
                if let name = configuration.multicastInterface {
                    // The group's family decides which of the interface's addresses joins it.
                    let family = groupAddress.protocol
                    device = try System.enumerateDevices().first { $0.name == name && $0.address?.protocol == family }
                    guard device != nil else { throw IngestError("--multicast-interface \(name): no such interface with an address of the group's family") }
                }
                let promise = loop.makePromise(of: Void.self)
                multicast.joinGroup(groupAddress, device: device, promise: promise)
                try await promise.futureResult.get()
            }
            udpPort = channel.localAddress?.port
            let replies = replyChannels
            try await loop.submit { replies.value[Self.udpReplyKey] = channel }.get()
        }
        let table = self.table, clock = self.clock, replies = self.replyChannels
        let start = clock.now()
        Self.tend(table: table, clock: clock, replies: replies, loop: loop, every: configuration.probeInterval,
                  nextProbe: start + configuration.probeInterval, nextExpiry: start + .seconds(1))
        return (tcpPort, udpPort)
    }

    /// The session table's timed work, on one timer: it ends the sessions gone silent (once a
    /// second) and probes every remote session every `interval` — while there is none to probe,
    /// it looks again with the next expiry, or four intervals later if that is sooner — so that an
    /// idle player's event loop wakes once a second at the defaults; a new remote session's first
    /// probe goes at once anyway (the table sends it).
    private static func tend(table: NIOLoopBoundBox<SessionTable>, clock: any MonotonicClock, replies: NIOLoopBoundBox<[SourceKey: any Channel]>,
                             loop: any EventLoop, every interval: Nanoseconds, nextProbe: Nanoseconds, nextExpiry: Nanoseconds) {
        let now = clock.now()
        let next = min(nextProbe, nextExpiry)
        loop.scheduleTask(in: .nanoseconds(max(0, (next - now).rawValue))) {
            let now = clock.now()
            var (nextProbe, nextExpiry) = (nextProbe, nextExpiry)
            if now >= nextExpiry {
                table.value.expire(now: now)
                nextExpiry = now + .seconds(1)
            }
            if now >= nextProbe {
                let probes = table.value.probes(now: now)
                for (source, line) in probes { send(line, to: source, replies: replies.value) }
                // Idle: with the next expiry (at the defaults), one wake for both.
                nextProbe = probes.isEmpty ? min(now + Nanoseconds(interval.rawValue * 4), nextExpiry) : now + interval
            }
            tend(table: table, clock: clock, replies: replies, loop: loop, every: interval, nextProbe: nextProbe, nextExpiry: nextExpiry)
        }
    }

    private static let udpReplyKey = SourceKey(transport: .udp, address: "", port: 0)

    /// Sends a line to a source: down its TCP connection, or as a datagram to its address.
    private static func send(_ line: [UInt8], to source: SourceKey, replies: [SourceKey: any Channel]) {
        switch source.transport {
        case .tcp:
            guard let channel = replies[source] else { return }
            channel.writeAndFlush(ByteBuffer(bytes: line), promise: nil)
        case .udp:
            guard let channel = replies[udpReplyKey], let address = try? SocketAddress(ipAddress: source.address, port: source.port) else { return }
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: line)), promise: nil)
        }
    }

    /// This host's interface addresses (its senders share our clock).
    private static func interfaceAddresses() -> Set<String> {
        Set(((try? System.enumerateDevices()) ?? []).compactMap { $0.address?.ipAddress })
    }

    /// Loopback, or one of `addresses` (IPv4 senders reach the dual-stack socket as `::ffff:a.b.c.d`).
    private static func isOnThisHost(addresses: Set<String>) -> @Sendable (SourceKey) -> Bool {
        { source in
            let address = source.address.lowercased()
            return source.isLoopback || addresses.contains(address)
                || (address.hasPrefix("::ffff:") && addresses.contains(String(address.dropFirst(7))))
        }
    }

    /// Closes the listeners and stops the event loop.
    public func stop() async throws {
        for channel in channels.withLock({ $0 }) { try? await channel.close().get() }
        try await group.shutdownGracefully()
    }

    /// Replaces the keys lines must be signed with (`--keys` reloaded on SIGHUP); sessions signed
    /// by a key no longer there get nothing more through and expire.
    public func replaceKeys(_ keys: KeyRing) async throws {
        try await withTable { $0.keys = keys }
    }

    /// Runs `body` with the session table on the ingest event loop.
    public func withTable<Result: Sendable>(_ body: @escaping @Sendable (SessionTable) -> Result) async throws -> Result {
        let table = self.table
        return try await loop.submit { body(table.value) }.get()
    }

    private func tcpBootstrap() -> ServerBootstrap {
        let table = self.table, connections = self.connections, counters = self.counters, clock = self.clock
        let configuration = self.configuration, replies = self.replyChannels
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let source = SourceKey(transport: .tcp, address: channel.remoteAddress?.ipAddress ?? "?", port: channel.remoteAddress?.port ?? 0)
                    if let allowed = configuration.allowed, !allowed.allows(channel.remoteAddress) {
                        table.value.dropDisallowed(from: source, at: clock.now())
                        channel.close(promise: nil)
                        return
                    }
                    guard connections.value < configuration.maximumConnections else {
                        counters.refusedConnections.add()
                        channel.close(promise: nil)
                        return
                    }
                    connections.value += 1
                    replies.value[source] = channel
                    channel.closeFuture.whenComplete { _ in
                        connections.value -= 1
                        replies.value[source] = nil
                    }
                    try channel.pipeline.syncOperations.addHandler(TCPLineHandler(
                        table: table.value, source: source, clock: clock, limit: configuration.maximumLineBytes,
                        idleTimeout: configuration.idleConnectionTimeout))
                }
            }
    }

    private func udpBootstrap() -> DatagramBootstrap {
        let table = self.table, clock = self.clock, limit = configuration.maximumLineBytes, allowed = configuration.allowed
        return DatagramBootstrap(group: group)
            // Shared only for a multicast group (several receivers on one host); a unicast port
            // shared by accident would split the datagrams between the sockets.
            .channelOption(.socketOption(.so_reuseaddr), value: listen.isMulticast ? 1 : 0)
            // The default allocator reads at most 2 KiB of a datagram; jamnet datagrams go to 64 KiB.
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            // Room for bursts (a sender catching up after a stall) while the loop is busy.
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UDPLineHandler(table: table.value, clock: clock, limit: limit, allowed: allowed))
                }
            }
    }
}

/// Frames one TCP connection's bytes into lines for the table, and closes the connection when
/// no line has ended for `idleTimeout`. Thread: the ingest event loop.
final class TCPLineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let table: SessionTable
    private let source: SourceKey
    private let clock: any MonotonicClock
    private var framer: LineFramer
    private let idleTimeout: Nanoseconds
    /// When the last line ended (or the connection opened).
    private var lastLine = Nanoseconds.zero
    private var idleCheck: Scheduled<Void>?

    init(table: SessionTable, source: SourceKey, clock: any MonotonicClock, limit: ByteCount, idleTimeout: Nanoseconds) {
        self.table = table
        self.source = source
        self.clock = clock
        self.idleTimeout = idleTimeout
        framer = LineFramer(limit: limit)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        lastLine = clock.now()
        checkIdle(context, after: idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
    }

    /// One timer per connection, moved on to the last line's deadline each time it fires.
    private func checkIdle(_ context: ChannelHandlerContext, after delay: Nanoseconds) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleCheck = context.eventLoop.scheduleTask(in: .nanoseconds(delay.rawValue)) {
            let (handler, context) = bound.value
            let quiet = handler.clock.now() - handler.lastLine
            if quiet >= handler.idleTimeout { context.close(promise: nil) } else { handler.checkIdle(context, after: handler.idleTimeout - quiet) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let arrival = clock.now()
        buffer.withUnsafeReadableBytes { bytes in framer.feed(bytes) { deliver($0, at: arrival) } }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let arrival = clock.now()
        framer.finish { deliver($0, at: arrival) }
        context.fireChannelInactive()
    }

    private func deliver(_ event: LineFramer.Event, at arrival: Nanoseconds) {
        lastLine = arrival
        switch event {
        case .line(let line, _): table.receive(line, from: source, at: arrival)
        case .tooLong(let length, _): table.receiveTooLong(from: source, length: length, at: arrival)
        }
    }
}

/// Frames each UDP datagram into lines for the table. Thread: the ingest event loop.
final class UDPLineHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let table: SessionTable
    private let clock: any MonotonicClock
    private let limit: ByteCount
    private let allowed: AddressAllowList?

    init(table: SessionTable, clock: any MonotonicClock, limit: ByteCount, allowed: AddressAllowList?) {
        self.table = table
        self.clock = clock
        self.limit = limit
        self.allowed = allowed
    }

    /// The last datagram's sender and its key: a stream's datagrams come from one address, whose
    /// text need not be made again for each (inet_ntop and a string: 1.4 % of a stream's cost).
    private var lastSource: (address: SocketAddress, key: SourceKey)?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let source: SourceKey
        if let lastSource, lastSource.address == envelope.remoteAddress {
            source = lastSource.key
        } else {
            source = SourceKey(transport: .udp, address: envelope.remoteAddress.ipAddress ?? "?", port: envelope.remoteAddress.port ?? 0)
            lastSource = (envelope.remoteAddress, source)
        }
        if let allowed, !allowed.allows(envelope.remoteAddress) {
            table.dropDisallowed(from: source, at: clock.now())
            return
        }
        let arrival = clock.now()
        envelope.data.withUnsafeReadableBytes { bytes in
            LineFramer.forEachLine(inDatagram: bytes, limit: limit) { event in
                switch event {
                case .line(let line, _): table.receive(line, from: source, at: arrival)
                case .tooLong(let length, _): table.receiveTooLong(from: source, length: length, at: arrival)
                }
            }
        }
    }
}
