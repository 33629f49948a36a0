import NIOCore
import NIOHTTPTypes

/// Sits after the HTTP codec and tells a connection's ``ConnectionClock`` where each exchange stands: a
/// request's head and end as they are parsed, a response's end as it is written.
final class MessageActivityHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let clock: ConnectionClock

    init(clock: ConnectionClock) { self.clock = clock }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: clock.headArrived()
        case .end: clock.requestEnded()
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { clock.responseEnded() }
        context.write(data, promise: promise)
    }
}
