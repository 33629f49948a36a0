import Foundation
import HTTPTypes
import Hookline
import NIOCore
import NIOHTTPTypes

/// Answers `POST /webhooks/{id}` in the connection's channel pipeline, before the router: the ingress's hot path
/// without the per-request work of Hummingbird's request loop (a task per request, an async body stream, the
/// router's look-up, the `Request` and `Response` values and their writer). What it answers is what
/// ``WebhookRoutes`` would, through the same ``WebhookIntake``.
///
/// It takes a delivery only when the connection has nothing else outstanding (so answers keep the order of
/// requests) and the caches know its webhook and token (so everything up to the batch runs here, on the event
/// loop, and the batch's commit calls back: no task per request, unless a change evicted the webhook or token
/// while the body came in and the second admission must ask the database). It passes on to the router everything else:
/// other routes, a delivery pipelined behind another route's request or after one that closes the connection,
/// one that expects `100-continue`, one the caches cannot admit (the router asks the database), and all of them
/// while the access log is on (the router's middleware writes it) or `--router-webhooks` is given.
///
/// A delivery is admitted from its head, before its body is read: a refusal is answered at once and the body
/// read and dropped, as the router does. It is admitted again once its body has come (``store(_:context:)``).
/// A body is held within the delivery limit (`--max-body-bytes`) and the body buffer budget
/// (`--max-buffered-bytes`); past either it is answered at once (413, or 503 with
/// `Retry-After`) and the rest dropped. While a delivery is being stored the handler reads nothing more from
/// the connection, and holds what had already been read (requests, events) until the answer is written: at
/// most what one pass of the event loop reads from a socket (NIO's `maxMessagesPerRead` reads of at most its
/// receive buffer's size), however much a client pipelines.
final class WebhookChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// An admitted delivery whose body is being read.
    private struct Receiving {
        /// The path's `{id}`: the delivery is admitted again once its body has come (``store(_:context:)``).
        var id: Substring
        var headers: HTTPFields
        var receivedAt: Date
        var body: ByteBuffer
        var reserved: Int
        var closeAfter: Bool
    }

    private enum State {
        /// Between the handler's own requests (perhaps while the router answers some).
        case idle
        /// Reading an admitted delivery's body.
        case receiving(Receiving)
        /// A delivery was answered before its end (refused): the rest of its body is dropped.
        case discarding
        /// A delivery is with the batch; nothing more is read until its answer is written.
        case answering(reserved: Int, closeAfter: Bool)
        /// Closing: a `Connection: close` answered, or the peer gone.
        case closed
    }

    /// An inbound event held while a delivery of the handler's own is read or answered.
    private enum Held {
        case read(NIOAny)
        case event(Any)
        case error(any Error)
    }

    private let intake: WebhookIntake
    private let metrics: IngressMetrics
    private var state = State.idle
    /// Requests passed to the router whose answers have not all been written.
    private var routerRequests = 0
    /// Whether the request being read is the router's.
    private var routerIsReading = false
    private var held: [Held] = []
    /// A `read` asked for while a delivery was being answered, issued once it is.
    private var readPending = false

    init(intake: WebhookIntake, metrics: IngressMetrics) {
        self.intake = intake
        self.metrics = metrics
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .answering:
            held.append(.read(data))
            return
        case .closed:
            return
        case .idle, .receiving, .discarding:
            break
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            // After a request that asks to close, ``MessageActivityHandler`` passes nothing more on.
            if routerRequests == 0, !routerIsReading, let id = deliveryID(head),
                begin(id: id, head: head, context: context)
            {
                return
            }
            routerRequests += 1
            routerIsReading = true
            context.fireChannelRead(data)
        case .body(let chunk):
            switch state {
            case .discarding:
                return
            case .receiving(var delivery):
                state = .idle  // the buffer is uniquely referenced while it grows
                if delivery.body.readableBytes + chunk.readableBytes > intake.settings.maxBodyBytes {
                    return refuse(delivery, APIError.tooLarge, context: context)
                }
                guard intake.bodyBudget.reserve(chunk.readableBytes) else {
                    return refuse(delivery, APIError.busy, context: context)
                }
                delivery.reserved += chunk.readableBytes
                delivery.body.writeImmutableBuffer(chunk)
                state = .receiving(delivery)
            default:
                context.fireChannelRead(data)
            }
        case .end:
            switch state {
            case .discarding:
                state = .idle
            case .receiving(let delivery):
                store(delivery, context: context)
            default:
                routerIsReading = false
                context.fireChannelRead(data)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch state {
        case .answering, .receiving: held.append(.event(event))
        case .idle, .discarding, .closed: context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .answering:
            held.append(.error(error))
        case .receiving(let delivery):
            // The request cannot be read to its end (a parse error): nothing was stored; the router's loop
            // answers the error and closes. Events held meanwhile (a shutdown) go first.
            intake.bodyBudget.release(delivery.reserved)
            metrics.requestFinished()
            state = .closed
            for case .event(let event) in held { context.fireUserInboundEventTriggered(event) }
            held.removeAll()
            context.fireErrorCaught(error)
        case .idle, .discarding, .closed:
            state = .closed
            context.fireErrorCaught(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .receiving(let delivery):
            intake.bodyBudget.release(delivery.reserved)
            metrics.requestFinished()
            state = .closed
        case .answering(let reserved, _):
            // The answer still comes, and finds the connection gone: it gives the budget back then.
            state = .answering(reserved: reserved, closeAfter: true)
        default:
            state = .closed
        }
        held.removeAll()
        context.fireChannelInactive()
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { routerRequests -= 1 }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        if case .answering = state {
            readPending = true
        } else {
            context.read()
        }
    }

    // MARK: A delivery

    /// The `{id}` of a request this handler may take, or nil to leave it to the router.
    private func deliveryID(_ head: HTTPRequest) -> Substring? {
        guard intake.settings.webhookFastPath, head.method == .post, !intake.settings.accessLog,
            head.headerFields[.expect] == nil,
            let path = head.path, path.hasPrefix("/webhooks/")
        else { return nil }
        let id = path.dropFirst("/webhooks/".count).prefix { $0 != "?" }
        return id.isEmpty || id.contains("/") ? nil : id
    }

    /// Admits a delivery from its head, when the caches can tell; false leaves it to the router.
    private func begin(id: Substring, head: HTTPRequest, context: ChannelHandlerContext) -> Bool {
        let closeAfter = head.headerFields.asksToClose
        let webhook: Webhook?
        do {
            let channel = context.channel
            webhook = try intake.admitFromCache(id, headers: head.headerFields) {
                clientAddress(of: channel, headers: head.headerFields)
            }
        } catch {
            metrics.requestStarted()  // and finished, by the answer
            state = .discarding
            write(WebhookAnswer(refusal: error), closeAfter: closeAfter, context: context)
            return true
        }
        guard webhook != nil else { return false }
        metrics.requestStarted()
        state = .receiving(
            Receiving(
                id: id, headers: head.headerFields, receivedAt: Date(), body: ByteBuffer(), reserved: 0,
                closeAfter: closeAfter))
        return true
    }

    /// The client's address, for allow-lists: behind a trusted proxy, the one it reports.
    private func clientAddress(of channel: any Channel, headers: HTTPFields) -> String? {
        ClientAddress.resolve(
            peer: channel.remoteAddress?.ipAddress, forwardedFor: headers[.xForwardedFor],
            trustedProxies: intake.settings.trustedProxies)
    }

    /// Answers a delivery whose body will not be read to its end; the rest is dropped.
    private func refuse(_ delivery: Receiving, _ refusal: APIError, context: ChannelHandlerContext) {
        intake.bodyBudget.release(delivery.reserved)
        state = .discarding
        write(WebhookAnswer(refusal: refusal), closeAfter: delivery.closeAfter, context: context)
        replayHeld(context: context)  // the events held while the body was read
    }

    /// Hands a delivery read to its end to the batch; its answer is written on the event loop once the batch
    /// has committed (or failed).
    ///
    /// The delivery is admitted again first, as its head was: a body may take as long as its sender likes (the
    /// body timeout is between bytes), and a secret rotated, a token revoked or the webhook deleted meanwhile
    /// must refuse it as it would a new request. The caches answer as a rule (a change evicts what it changes);
    /// when they cannot, the database is asked, off the event loop.
    private func store(_ delivery: Receiving, context: ChannelHandlerContext) {
        let body = Data(requestBody: delivery.body)
        let prepared: Delivery
        do {
            let channel = context.channel
            guard
                let webhook = try intake.admitFromCache(
                    delivery.id, headers: delivery.headers,
                    clientAddress: { clientAddress(of: channel, headers: delivery.headers) })
            else { return admitAndStore(delivery, body: body, context: context) }
            prepared = try intake.prepare(
                webhook, headers: delivery.headers, body: body, receivedAt: delivery.receivedAt)
        } catch {
            intake.bodyBudget.release(delivery.reserved)
            state = .idle
            write(WebhookAnswer(refusal: error), closeAfter: delivery.closeAfter, context: context)
            return replayHeld(context: context)  // the events held while the body was read
        }
        state = .answering(reserved: delivery.reserved, closeAfter: delivery.closeAfter)
        let intake = intake
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        intake.enqueuer.submit(prepared) { result in
            let answer =
                switch result {
                case .success(let outcome): WebhookAnswer(outcome)
                case .failure(let error): WebhookAnswer(refusal: intake.storeFailure(error))
                }
            bound.eventLoop.execute { bound.value.handler.stored(answer, context: bound.value.context) }
        }
    }

    /// ``store(_:context:)`` when the caches cannot admit the delivery again: the database is asked in a task,
    /// and the answer written on the event loop as for any stored delivery.
    private func admitAndStore(_ delivery: Receiving, body: Data, context: ChannelHandlerContext) {
        state = .answering(reserved: delivery.reserved, closeAfter: delivery.closeAfter)
        let intake = intake
        let (id, headers, receivedAt) = (String(delivery.id), delivery.headers, delivery.receivedAt)
        let address = clientAddress(of: context.channel, headers: headers)
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        Task {
            let answer: WebhookAnswer
            do {
                let webhook = try await intake.admit(id, headers: headers) { address }
                answer = WebhookAnswer(
                    try await intake.store(webhook, headers: headers, body: body, receivedAt: receivedAt))
            } catch {
                answer = WebhookAnswer(refusal: error)
            }
            bound.eventLoop.execute { bound.value.handler.stored(answer, context: bound.value.context) }
        }
    }

    /// A stored delivery's answer: written, then what was held meanwhile goes on.
    private func stored(_ answer: WebhookAnswer, context: ChannelHandlerContext) {
        guard case .answering(let reserved, let closeAfter) = state else { return }
        intake.bodyBudget.release(reserved)
        guard context.channel.isActive else {
            metrics.requestFinished()
            state = .closed
            return
        }
        state = .idle
        write(answer, closeAfter: closeAfter, context: context)
        if case .closed = state { return }
        replayHeld(context: context)
        if case .answering = state { return }
        if readPending {
            readPending = false
            context.read()
        }
    }

    /// Writes an answer with the headers every answer has. With `closeAfter` it says `Connection: close`,
    /// nothing more is read, and ``MessageActivityHandler`` closes the connection after it.
    private func write(_ answer: WebhookAnswer, closeAfter: Bool, context: ChannelHandlerContext) {
        metrics.requestFinished()
        metrics.recordRequest(route: "/webhooks/{id}", status: Int(answer.status.code))
        metrics.recordFastPathAnswer()
        var fields = answer.headers
        fields[.contentType] = JSONResponse.contentType
        fields[.contentLength] = String(answer.body.count)
        fields[.server] = ServerSettings.serverName
        fields[.date] = HTTPDate.now
        if closeAfter { fields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: answer.status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: answer.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if closeAfter {
            state = .closed
            held.removeAll()
        }
    }

    /// Delivers what was held, in order, until a delivery of the handler's own is being answered again; then
    /// the read is complete (the router's inbound stream hands on what it was given only then).
    private func replayHeld(context: ChannelHandlerContext) {
        guard !held.isEmpty else { return }
        while !held.isEmpty {
            if case .answering = state { break }
            if case .closed = state { break }
            switch held.removeFirst() {
            case .read(let data): channelRead(context: context, data: data)
            case .event(let event): userInboundEventTriggered(context: context, event: event)
            case .error(let error): errorCaught(context: context, error: error)
            }
        }
        context.fireChannelReadComplete()
    }
}
