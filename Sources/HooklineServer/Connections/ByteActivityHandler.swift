import NIOCore

/// The first handler of a connection: tells its ``ConnectionClock`` whenever bytes arrive, before any
/// parsing, so that a head or body trickling in byte by byte is seen as progress (or its absence).
final class ByteActivityHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let clock: ConnectionClock

    init(clock: ConnectionClock) { self.clock = clock }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        clock.bytesArrived()
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        clock.closed()
        context.fireChannelInactive()
    }
}
