import NIOCore
import NIOHTTP1

/// Answers `Expect: 100-continue` with `100 Continue` (RFC 9110 §10.1.1): a client that sends it waits for that
/// before its body (curl a second, others until their own timeout), and neither Hummingbird nor NIO sends it.
/// Sent at once, or, behind pipelined requests, once the answers before its request are out (an interim answer
/// may not cut into them), and never after an answer that closes the connection. HTTP/1.0 requests have no
/// 100 (Continue): their expectation is ignored.
///
/// Sits between NIO's HTTP/1 codec and the HTTPTypes codec, where a request's version is still known and
/// every answer passes on its way out.
final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Request heads read, and answers ended, on this connection.
    private var read = 0
    private var answered = 0
    /// A `100 Continue` waiting for the answers before its request: that request's number and version.
    private var waiting: (request: Int, version: HTTPVersion)?
    /// An answer said `Connection: close`: nothing more goes out after it.
    private var closing = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            read += 1
            if (head.version.major, head.version.minor) >= (1, 1),
                head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" })
            {
                if answered == read - 1 {
                    if !closing { sendContinue(context, version: head.version) }
                } else {
                    waiting = (read, head.version)
                }
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        if case .head(let head) = part, head.status.code >= 200,
            head.headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "close" })
        {
            closing = true
        }
        context.write(data, promise: promise)
        guard case .end = part else { return }
        answered += 1
        guard let (request, version) = waiting else { return }
        if closing || answered >= request {
            waiting = nil
        } else if answered == request - 1 {
            waiting = nil
            sendContinue(context, version: version)
        }
    }

    private func sendContinue(_ context: ChannelHandlerContext, version: HTTPVersion) {
        context.writeAndFlush(
            wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .continue))), promise: nil)
    }
}
