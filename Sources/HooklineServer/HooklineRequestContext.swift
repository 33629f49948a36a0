import Foundation
import HTTPTypes
import Hookline
import Hummingbird
import NIOCore

/// The request context of every Hookline route: Hummingbird's core storage, the peer's address, and what the
/// middleware in front of a route found for it.
public struct HooklineRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The address of the connected peer (a proxy's, behind one).
    public let remoteAddress: SocketAddress?
    /// When the server took the request up, its head read: a delivery's `received_at`, however long the checks
    /// before it is stored take.
    let receivedAt: Date
    /// The console client (its row id) whose token an `/api/v1` request carries, set by ``APITokenMiddleware``.
    var apiClient: UUID?
    /// The console session a `/console` request belongs to, set by ``ConsoleSessionMiddleware``.
    var consoleSession: ConsoleSession?

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
        receivedAt = Date()
    }

    /// The client's address, for allow-lists and per-source limits: the peer's, or, when the peer is a trusted
    /// proxy, the rightmost `X-Forwarded-For` entry that is not a trusted proxy (see ``ClientAddress``).
    func clientAddress(of request: Request, trustedProxies: [CIDR]) -> String? {
        ClientAddress.resolve(
            peer: remoteAddress?.ipAddress, forwardedFor: request.headers[.xForwardedFor],
            trustedProxies: trustedProxies)
    }
}

extension HTTPField.Name {
    /// `X-Forwarded-For`: the addresses a request passed through, as proxies report them.
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
