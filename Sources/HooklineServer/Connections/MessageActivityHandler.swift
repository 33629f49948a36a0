import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Sits after the HTTP codec and follows each exchange: it tells the connection's ``ConnectionClock`` of a
/// request's head and end as they are parsed and of a response's end as it is written, it spells a request's
/// `Connection: close` as the router reads it, and it bounds what is read of a refused body.
///
/// A request answered before its body was read (a refusal, on the fast path or the router's) keeps its
/// connection while both paths read and drop the rest of the body; past `maxRefusedBodyBytes` of that rest,
/// or at once when its `Content-Length` says the rest is larger (the answer then says `Connection: close`),
/// the connection is closed instead, or one refused request could make the server read any amount. It closes
/// as Go's `net/http` and nginx's lingering close do: the answer goes first, then the server's side of the
/// connection is shut and what still arrives is read and dropped for ``lingering`` more, so that the client's
/// kernel does not answer the close with a reset that could discard the answer before the client reads it.
final class MessageActivityHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// How long a closing connection still reads and drops what arrives.
    static let lingering = TimeAmount.milliseconds(500)

    private let clock: ConnectionClock
    private let maxRefusedBodyBytes: Int
    /// Request heads read, and answers ended, on this connection: the request being read has been answered
    /// when every request read so far has been.
    private var requests = 0
    private var answers = 0
    /// The body bytes of the request being read that its `Content-Length` says are still to come; nil when
    /// it gives none (chunked).
    private var remaining: Int? = 0
    /// Whether the request being read has its end still to come.
    private var reading = false
    /// Bytes of the answered request's body dropped so far.
    private var dropped = 0
    /// Whether the connection closes once the answer being written has ended.
    private var closeAfterAnswer = false
    /// Whether the connection is closing: what arrives is dropped.
    private var closing = false

    init(clock: ConnectionClock, maxRefusedBodyBytes: Int) {
        self.clock = clock
        self.maxRefusedBodyBytes = maxRefusedBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if closing { return context.read() }
        switch unwrapInboundIn(data) {
        case .head(var head):
            clock.headArrived()
            requests += 1
            dropped = 0
            let length = head.headerFields[.contentLength].flatMap { Int($0) }
            remaining = length ?? (head.headerFields[.transferEncoding] == nil ? 0 : nil)
            reading = true
            // The router closes after a request whose `Connection` is exactly `close`: any other spelling of
            // the token is made that one, so that every request that asks to close is closed after.
            if let value = head.headerFields[.connection], value != "close", head.headerFields.asksToClose {
                head.headerFields[.connection] = "close"
                return context.fireChannelRead(wrapInboundOut(.head(head)))
            }
        case .end:
            clock.requestEnded()
            reading = false
        case .body(let chunk):
            remaining = remaining.map { $0 - chunk.readableBytes }
            if answers >= requests {
                dropped += chunk.readableBytes
                if dropped > maxRefusedBodyBytes { return close(context: context) }
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where answersTheBodyStillComing(head.status):
            head.headerFields[.connection] = "close"
            closeAfterAnswer = true
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end:
            clock.responseEnded()
            answers += 1
            context.write(data, promise: promise)
            if closeAfterAnswer { close(context: context) }
        case .head, .body:
            context.write(data, promise: promise)
        }
    }

    /// Whether a final answer to the request being read comes while more of its body than the bound is still
    /// to come, by its `Content-Length`.
    private func answersTheBodyStillComing(_ status: HTTPResponse.Status) -> Bool {
        guard status.kind != .informational, reading, answers + 1 == requests, let remaining else { return false }
        return remaining > maxRefusedBodyBytes
    }

    /// Shuts the server's side once what was written has gone, and closes the connection ``lingering`` later
    /// (or when the client closes first).
    private func close(context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        closeAfterAnswer = false
        context.close(mode: .output, promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: Self.lingering) { bound.value.close(promise: nil) }
        context.read()
    }
}
