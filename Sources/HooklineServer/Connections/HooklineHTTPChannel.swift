import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1 channel with Hookline's connection deadlines (see ``ConnectionClock``): each
/// connection gets a clock, a byte-level handler in front of the HTTP codec and a message-level one behind it
/// (which also bounds what is read of a refused body, and closes the connection after its last request, which
/// ``ConnectionPersistenceHandler`` finds while the request's version is still known); then
/// ``WebhookChannelHandler``, which answers most webhook deliveries before they reach the router.
struct HooklineHTTPChannel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let responder: HTTPChannelHandler.Responder
    let timeouts: ConnectionClock.Timeouts
    /// The bounds of a request's head (`--max-header-bytes`, `--max-header-fields`).
    let head: HTTP1Channel.Configuration.DecoderConfiguration
    /// What is read and dropped of a refused body before the connection closes (`--max-refused-body-bytes`).
    let maxRefusedBodyBytes: Int
    let intake: WebhookIntake
    let metrics: IngressMetrics

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let clock = ConnectionClock(timeouts: timeouts, channel: channel)
        do {
            try channel.pipeline.syncOperations.addHandler(ByteActivityHandler(clock: clock))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        let http = HTTP1Channel(
            responder: responder,
            configuration: .init(
                additionalChannelHandlers: [
                    MessageActivityHandler(clock: clock, maxRefusedBodyBytes: maxRefusedBodyBytes),
                    WebhookChannelHandler(intake: intake, metrics: metrics),
                ],
                httpDecoderConfiguration: head))
        return http.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // Before the HTTPTypes codec, which drops the request's version.
            let pipeline = channel.pipeline.syncOperations
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(ConnectionPersistenceHandler(), position: .before(codec))
            try pipeline.addHandler(ExpectContinueHandler(), position: .before(codec))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await HTTP1Channel(responder: responder).handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with Hookline's connection deadlines and its webhook fast path.
    static func hookline(
        timeouts: ConnectionClock.Timeouts, head: HTTP1Channel.Configuration.DecoderConfiguration,
        maxRefusedBodyBytes: Int, intake: WebhookIntake, metrics: IngressMetrics
    ) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            HooklineHTTPChannel(
                responder: responder, timeouts: timeouts, head: head, maxRefusedBodyBytes: maxRefusedBodyBytes,
                intake: intake, metrics: metrics)
        }
    }
}
