import NIOCore
import NIOHTTPTypes

/// Sits after the HTTP codec and follows each exchange: it tells the connection's ``ConnectionClock`` of a
/// request's head and end as they are parsed and of a response's end as it is written, and it bounds what is
/// read of a refused body.
///
/// A request answered before its body was read (a refusal, on the fast path or the router's) keeps its
/// connection while both paths read and drop the rest of the body; past `maxRefusedBodyBytes` of that rest the
/// connection is closed instead, or one refused request could make the server read any amount. Go's
/// `net/http` does the same past 256 KiB.
final class MessageActivityHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let clock: ConnectionClock
    private let maxRefusedBodyBytes: Int
    /// Request heads read, and answers ended, on this connection: the request being read has been answered
    /// when every request read so far has been.
    private var requests = 0
    private var answers = 0
    /// Bytes of the answered request's body dropped so far.
    private var dropped = 0

    init(clock: ConnectionClock, maxRefusedBodyBytes: Int) {
        self.clock = clock
        self.maxRefusedBodyBytes = maxRefusedBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            clock.headArrived()
            requests += 1
            dropped = 0
        case .end:
            clock.requestEnded()
        case .body(let chunk) where answers >= requests:
            dropped += chunk.readableBytes
            if dropped > maxRefusedBodyBytes {
                context.close(promise: nil)
                return
            }
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            clock.responseEnded()
            answers += 1
        }
        context.write(data, promise: promise)
    }
}
