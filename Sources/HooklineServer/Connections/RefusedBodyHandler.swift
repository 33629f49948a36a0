import NIOCore
import NIOHTTPTypes

/// Sits right after the HTTP codec and closes a connection whose request was answered before its body was
/// read (a refusal, on the fast path or the router's) once more than `limit` bytes of that body's rest have
/// arrived. Both paths read and drop such a rest to keep the connection for the next request; without a bound
/// one refused request could make the server read any amount. Go's `net/http` does the same past 256 KiB.
final class RefusedBodyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limit: Int
    /// Request heads read, and answers ended, on this connection: the request being read has been answered
    /// when every request read so far has been.
    private var requests = 0
    private var answers = 0
    /// Bytes of the answered request's body dropped so far.
    private var dropped = 0

    init(limit: Int) { self.limit = limit }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            requests += 1
            dropped = 0
        case .body(let chunk) where answers >= requests:
            dropped += chunk.readableBytes
            if dropped > limit {
                context.close(promise: nil)
                return
            }
        case .body, .end:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { answers += 1 }
        context.write(data, promise: promise)
    }
}
