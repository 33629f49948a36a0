import NIOCore
import NIOHTTP1

/// Sits between NIO's HTTP/1 decoder and the HTTPTypes codec, which drops a request's version, and tells the
/// handlers after it of a request after which the connection does not persist (RFC 9112 §9.3): an HTTP/1.1
/// request that lists `close` in `Connection`, and an HTTP/1.0 request that does not ask for `keep-alive`.
/// Such a client may read its answer until the connection closes, so the server must close it.
final class ConnectionPersistenceHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    /// Fired just before the head of a request that is the connection's last.
    struct LastRequest {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data), !head.isKeepAlive {
            context.fireUserInboundEventTriggered(LastRequest())
        }
        context.fireChannelRead(data)
    }
}
