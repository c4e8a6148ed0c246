import NIOCore
import NIOHTTP1
import NIOPosix

/// The player's HTTP port for whoever watches the box: `GET /metrics` (Prometheus text) and
/// `GET /status` (JSON). NIOHTTP1 alone; anything else is 404, anything but GET 405.
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

    /// The port it listens on.
    public let port: Int
    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
        port = channel.localAddress?.port ?? 0
    }

    /// Listens on `host:port` (port 0: any free one). Connections idle for 30 s are closed.
    public static func start(host: String, port: Int, responder: @escaping Responder) async throws -> OperationsServer {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
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

/// One connection's requests, answered in order.
private final class RequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: OperationsServer.Responder
    private var head: HTTPRequestHead?

    init(responder: @escaping OperationsServer.Responder) {
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break  // requests carry no body worth reading
        case .end:
            guard let head else { return }
            self.head = nil
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
        if !head.isKeepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
