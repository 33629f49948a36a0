import NIOCore

/// The first handler of a connection: tells its ``ConnectionClock`` whenever bytes arrive, before any
/// parsing, so that a head or body trickling in byte by byte is seen as progress (or its absence), and when
/// the application asks for more (a `read` that passes through here), so that a body's deadline runs only
/// while the client is the one keeping the server waiting.
final class ByteActivityHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let clock: ConnectionClock

    init(clock: ConnectionClock) { self.clock = clock }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        clock.bytesArrived()
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        clock.readRequested()
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        clock.closed()
        context.fireChannelInactive()
    }
}
