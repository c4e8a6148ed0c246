import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The player's HTTP port for whoever watches the box: `GET /metrics` (Prometheus text) and
/// `GET /status` (JSON). NIOHTTP1 alone; anything else is 404, anything but GET 405. It holds
/// at most ``maximumConnections`` connections (more are closed at once), each must send a whole
/// request within ``requestTimeout`` of opening or of its last response, and one idle for 30 s
/// is closed: whoever can reach the port cannot hold it.
///
/// Thread: `start` and `stop` from one task; requests are served on the event loop, each
/// response made by the async `Responder`.
public final class OperationsServer: Sendable {
    /// A response: status, content type and body.
    public struct Response: Sendable {
        public var status: HTTPResponseStatus
        public var contentType: String
        public var body: [UInt8]

        /// Makes a response.
        public init(status: HTTPResponseStatus = .ok, contentType: String, body: [UInt8]) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    /// Makes the response for a GET of `path`.
    public typealias Responder = @Sendable (_ path: String) async -> Response

    /// Connections held at once.
    public static let maximumConnections = 16
    /// How long a connection has to send a whole request (a slow sender of headers is closed).
    public static let requestTimeout = TimeAmount.seconds(10)

    /// The port it listens on.
    public let port: Int
    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
        port = channel.localAddress?.port ?? 0
    }

    /// Listens on `host:port` (port 0: any free one). Connections idle for 30 s are closed.
    public static func start(host: String, port: Int, responder: @escaping Responder) async throws -> OperationsServer {
        let open = ConnectionCount()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard open.count.add(1, ordering: .relaxed).newValue <= maximumConnections else {
                        open.count.subtract(1, ordering: .relaxed)
                        channel.close(promise: nil)
                        return
                    }
                    channel.closeFuture.whenComplete { _ in open.count.subtract(1, ordering: .relaxed) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: .seconds(30)))
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(responder: responder))
                }
            }
        return OperationsServer(channel: try await bootstrap.bind(host: host, port: port).get())
    }

    /// Stops listening.
    public func stop() async {
        try? await channel.close()
    }
}

/// The connections the server holds now (its child channels run on several event loops).
private final class ConnectionCount: Sendable {
    let count = Atomic<Int>(0)
}

/// One connection's requests, answered in order; closes it when a request takes longer than the
/// request timeout to arrive.
private final class RequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: OperationsServer.Responder
    private var head: HTTPRequestHead?
    private var requestDeadline: Scheduled<Void>?

    init(responder: @escaping OperationsServer.Responder) {
        self.responder = responder
    }

    func handlerAdded(context: ChannelHandlerContext) { awaitRequest(context) }

    func handlerRemoved(context: ChannelHandlerContext) { requestDeadline?.cancel() }

    /// The next request must be whole within the timeout.
    private func awaitRequest(_ context: ChannelHandlerContext) {
        let channel = context.channel
        requestDeadline = context.eventLoop.scheduleTask(in: OperationsServer.requestTimeout) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break  // requests carry no body worth reading
        case .end:
            guard let head else { return }
            self.head = nil
            requestDeadline?.cancel()
            requestDeadline = nil
            respond(to: head, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = String(head.uri.prefix { $0 != "?" })
        let promise = context.eventLoop.makePromise(of: OperationsServer.Response.self)
        if head.method == .GET || head.method == .HEAD {
            let responder = self.responder
            promise.completeWithTask { await responder(path) }
        } else {
            promise.succeed(.init(status: .methodNotAllowed, contentType: "text/plain; charset=utf-8", body: Array("GET /metrics or /status\n".utf8)))
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenSuccess { response in
            let (handler, context) = bound.value
            handler.write(response, for: head, context: context)
        }
    }

    private func write(_ response: OperationsServer.Response, for head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Cache-Control", value: "no-store")
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        awaitRequest(context)
        if !head.isKeepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
