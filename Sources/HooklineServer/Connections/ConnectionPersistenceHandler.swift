import NIOCore
import NIOHTTP1

/// Sits between NIO's HTTP/1 decoder and the HTTPTypes codec, which drops a request's version, and tells the
/// handlers after it, by an event just before a request's head, how the connection persists past that request
/// (RFC 9112 §9.3): not at all after a request that lists `close` in `Connection` (in any spelling, and even
/// beside `keep-alive`) or an HTTP/1.0 one that does not ask for `keep-alive`; and only if the answer says
/// `keep-alive` after an HTTP/1.0 request that asks for it. Such clients may read an answer until the
/// connection closes, so the server must say which. The one place that decides whether a request is a
/// connection's last.
final class ConnectionPersistenceHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    /// The event fired before a request's head, when its connection is not simply kept alive as HTTP/1.1's is.
    enum Persistence {
        /// The request is the connection's last.
        case lastRequest
        /// An HTTP/1.0 request that asks for `keep-alive`: its answer must say `Connection: keep-alive`.
        case keepAliveAsked
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            if !head.isKeepAlive {
                context.fireUserInboundEventTriggered(Persistence.lastRequest)
            } else if head.version.major == 1, head.version.minor == 0 {
                // NIO keeps an HTTP/1.0 connection that lists `keep-alive` even when `close` is listed too.
                let close = head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "close" }
                context.fireUserInboundEventTriggered(close ? Persistence.lastRequest : .keepAliveAsked)
            }
        }
        context.fireChannelRead(data)
    }
}
