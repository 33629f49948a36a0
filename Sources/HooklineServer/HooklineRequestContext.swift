import Hummingbird
import NIOCore

/// The request context of every Hookline route: Hummingbird's core storage plus the peer's address.
public struct HooklineRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The address of the connected peer (a proxy's, behind one).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address as text, for per-source limits.
    var sourceAddress: String { remoteAddress?.ipAddress ?? "unknown" }
}
