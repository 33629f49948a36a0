import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Sits after the HTTP codec and follows each exchange. It tells the connection's ``ConnectionClock`` of a
/// request's head and end as they are parsed and of a response's end as it is written, and it alone closes a
/// connection that is to close after an answer:
///
/// - after a request that is the connection's last, as ``ConnectionPersistenceHandler`` tells it (`Connection`
///   lists `close`, in any spelling, or an HTTP/1.0 request does not ask for `keep-alive`: the router itself
///   closes only after exactly `close`); its answer says `Connection: close`, and what the client pipelined
///   after it is not read (the answer to an HTTP/1.0 request that asks for `keep-alive` says so);
/// - after an answer that says `Connection: close` (the fast path's);
/// - after a refusal, once the rest of the refused body would be too much to read and drop: past
///   `maxRefusedBodyBytes` of it, or at its answer when its `Content-Length` already says so (the answer then
///   says `Connection: close`). Otherwise one refused request could make the server read any amount.
///
/// It closes as Go's `net/http` and nginx's lingering close do: the answer goes first, then the server's side
/// is shut and what still arrives is read and dropped for ``lingering`` more, so that the client's kernel
/// does not answer the close with a reset that could discard the answer before the client reads it.
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
    /// The request (by its number) after whose answer the connection closes.
    private var closeAfter: Int?
    /// What ``ConnectionPersistenceHandler`` said of the next request, if anything.
    private var nextPersistence: ConnectionPersistenceHandler.Persistence?
    /// HTTP/1.0 requests (by number) that asked for `keep-alive`: their answers say `Connection: keep-alive`,
    /// or the client closes after them. At most the requests read and not yet answered.
    private var keepAliveAnswers: Set<Int> = []
    /// Set once the connection is closing: what arrives is dropped.
    private var closing: Scheduled<Void>?

    init(clock: ConnectionClock, maxRefusedBodyBytes: Int) {
        self.clock = clock
        self.maxRefusedBodyBytes = maxRefusedBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Closing: what arrives is read and dropped. Past a request that asked to close: what was read with it
        // is dropped, and no more is read until the connection closes (see `read`).
        if closing != nil { return context.read() }
        if pastCloseRequest { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            clock.headArrived()
            requests += 1
            dropped = 0
            let length = head.headerFields[.contentLength].flatMap { Int($0) }
            remaining = length ?? (head.headerFields[.transferEncoding] == nil ? 0 : nil)
            reading = true
            switch nextPersistence {
            case .lastRequest: closeAfter = requests
            case .keepAliveAsked: keepAliveAnswers.insert(requests)
            case nil: break
            }
            nextPersistence = nil
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
        case .head(var head) where head.status.kind != .informational:
            let answering = answers + 1
            let keepAliveAsked = !keepAliveAnswers.isEmpty && keepAliveAnswers.remove(answering) != nil
            if answersTheBodyStillComing(answering) {
                closeAfter = answering
                head.headerFields[.connection] = "close"
            } else if head.headerFields.asksToClose {
                closeAfter = answering
                return context.write(data, promise: promise)
            } else if closeAfter == answering {
                head.headerFields[.connection] = "close"
            } else if keepAliveAsked {
                head.headerFields[.connection] = "keep-alive"
            } else {
                return context.write(data, promise: promise)
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end:
            clock.responseEnded()
            answers += 1
            context.write(data, promise: promise)
            if answers == closeAfter { close(context: context) }
        case .head, .body:
            context.write(data, promise: promise)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let persistence = event as? ConnectionPersistenceHandler.Persistence else {
            return context.fireUserInboundEventTriggered(event)
        }
        nextPersistence = persistence
    }

    /// Held past a request that asked to close, until its answer has been written: otherwise a client could
    /// pipeline any amount behind it, to be read and dropped while it is stored.
    func read(context: ChannelHandlerContext) {
        if closing == nil, pastCloseRequest { return }
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing?.cancel()
        context.fireChannelInactive()
    }

    /// Whether a request that asked to close has been read to its end.
    private var pastCloseRequest: Bool { closeAfter.map { requests >= $0 && !reading } == true }

    /// Whether answer number `answering` answers the request being read while more of its body than the bound
    /// is still to come, by its `Content-Length`.
    private func answersTheBodyStillComing(_ answering: Int) -> Bool {
        guard reading, answering == requests, let remaining else { return false }
        return remaining > maxRefusedBodyBytes
    }

    /// Shuts the server's side once what was written has gone, and closes the connection ``lingering`` later
    /// (or when the client closes first).
    private func close(context: ChannelHandlerContext) {
        guard closing == nil else { return }
        context.close(mode: .output, promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        closing = context.eventLoop.scheduleTask(in: Self.lingering) { bound.value.close(promise: nil) }
        context.read()
    }
}
