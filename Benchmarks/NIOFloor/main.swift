// The floor of `scripts/bench`: the least an HTTP/1.1 server on SwiftNIO does for a webhook, with nothing of
// Hookline in it: `configureHTTPServerPipeline` and one handler that reads each request, body and all, and
// answers 202 with a job id shaped like Hookline's. The bench measures its CPU per request under the same wrk
// load as `hookline serve`, in the same run, and divides (`serve_cpu_vs_floor`).
//
//   hookline-nio-floor --port N    (127.0.0.1; one event loop per core; runs until killed)
import NIOCore
import NIOHTTP1
import NIOPosix

/// One per connection: reads a request to its end, then answers 202 `{"job_id":1}`, keeping the connection
/// open unless the request asked to close it.
final class AcceptedHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private static let body = ByteBuffer(string: #"{"job_id":1}"#)
    private var keepAlive = true

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): keepAlive = head.isKeepAlive
        case .body: break
        case .end: respond(context: context)
        }
    }

    private func respond(context: ChannelHandlerContext) {
        var headers = HTTPHeaders([("content-type", "application/json"), ("content-length", "12")])
        if !keepAlive { headers.add(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: .accepted, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(Self.body))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.whenComplete { _ in bound.value.close(promise: nil) }
        }
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 3, arguments[1] == "--port", let port = Int(arguments[2]) else {
    print("usage: hookline-nio-floor --port N")
    exit(2)
}
let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
let channel = try await ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 256)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            try channel.pipeline.syncOperations.addHandler(AcceptedHandler())
        }
    }
    .bind(host: "127.0.0.1", port: port)
    .get()
try await channel.closeFuture.get()
