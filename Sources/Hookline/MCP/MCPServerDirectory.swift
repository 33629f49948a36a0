import Foundation
import Postgres

/// The MCP servers that the ingress serves, with their tools, cached in memory and evicted through NOTIFY
/// (`mcp:<id>` for a server, `cycle:<id>` for a cycle definition, which may be any server's tool): a tool
/// call costs no database round trip to find its server and tool after an instance's first call.
public final class MCPServerDirectory: Sendable {
    /// A server with the tools it offers now.
    public struct Entry: Sendable, Hashable {
        public var server: MCPServer
        public var tools: [MCPTool]

        /// The tool named `name`, if the server offers one.
        public func tool(named name: String) -> MCPTool? { tools.first { $0.name == name } }
    }

    private let store: MCPServerStore
    private let cache: NotifiedCache<UUID, Entry>

    /// Servers cached at most (`hookline serve --mcp-cache-entries`).
    public static let defaultMaxEntries = 10_000

    public init(
        store: MCPServerStore, maxEntries: Int = defaultMaxEntries,
        timeToLive: Duration = NotifiedCacheDefaults.timeToLive
    ) {
        self.store = store
        self.cache = NotifiedCache(maxEntries: maxEntries, timeToLive: timeToLive)
    }

    /// The live server with `id` and its tools, if any.
    public func entry(_ id: UUID) async throws -> Entry? {
        try await cache.value(for: id) {
            guard let server = try await store.find(id) else { return nil }
            return Entry(server: server, tools: try await store.tools(of: server))
        }
    }

    /// Applies an event of the LISTEN connection on ``ConfigNotifications/channel``; returns what changed,
    /// for the open sessions to hear of it.
    @discardableResult
    public func handle(_ event: PostgresListener.Event) -> ConfigNotifications.Subject? {
        guard let notification = cache.apply(event), notification.channel == ConfigNotifications.channel,
            let subject = ConfigNotifications.Subject(payload: notification.payload)
        else { return nil }
        switch subject {
        case .mcpServer(let id): cache.evict(id)
        case .cycle(let id): cache.evict { _, entry in entry?.server.cycleIDs.contains(id) ?? false }
        case .webhook: return nil
        }
        return subject
    }
}
