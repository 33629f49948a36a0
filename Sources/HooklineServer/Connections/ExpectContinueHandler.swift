import NIOCore
import NIOHTTP1

/// Answers `Expect: 100-continue` with `100 Continue` (RFC 9110 §10.1.1): a client that sends it waits for that
/// before its body (curl a second, others until their own timeout), and neither Hummingbird nor NIO sends it.
/// Sent at once, or, behind pipelined requests, once the answers before it are out (an interim answer may not
/// cut into them). HTTP/1.0 requests have no 100 (Continue): their expectation is ignored.
///
/// Sits between NIO's HTTP/1 codec and the HTTPTypes codec, where a request's version is still known and
/// every answer passes on its way out.
final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Requests read whose answer has not ended.
    private var unanswered = 0
    /// A `100 Continue` waiting for the answers before its request, with that request's version.
    private var waiting: HTTPVersion?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            unanswered += 1
            if (head.version.major, head.version.minor) >= (1, 1),
                head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" })
            {
                if unanswered == 1 {
                    sendContinue(context, version: head.version)
                } else {
                    waiting = head.version
                }
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let ends: Bool
        if case .end = unwrapOutboundIn(data) { ends = true } else { ends = false }
        context.write(data, promise: promise)
        guard ends else { return }
        unanswered = max(0, unanswered - 1)
        if unanswered == 1, let version = waiting {
            waiting = nil
            sendContinue(context, version: version)
        }
    }

    private func sendContinue(_ context: ChannelHandlerContext, version: HTTPVersion) {
        context.writeAndFlush(
            wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .continue))), promise: nil)
    }
}
