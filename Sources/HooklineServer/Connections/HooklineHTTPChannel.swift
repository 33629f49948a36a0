import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 channel with Hookline's connection deadlines (see ``ConnectionClock``): each
/// connection gets a clock, a byte-level handler in front of the HTTP codec and a message-level one behind it.
struct HooklineHTTPChannel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let responder: HTTPChannelHandler.Responder
    let timeouts: ConnectionClock.Timeouts

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let clock = ConnectionClock(timeouts: timeouts, channel: channel)
        do {
            try channel.pipeline.syncOperations.addHandler(ByteActivityHandler(clock: clock))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        let http = HTTP1Channel(
            responder: responder,
            configuration: .init(additionalChannelHandlers: [MessageActivityHandler(clock: clock)]))
        return http.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await HTTP1Channel(responder: responder).handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with Hookline's connection deadlines.
    static func hookline(timeouts: ConnectionClock.Timeouts) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in HooklineHTTPChannel(responder: responder, timeouts: timeouts) }
    }
}
