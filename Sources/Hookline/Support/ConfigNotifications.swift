import Foundation
import Postgres

/// The NOTIFY channel for configuration that running instances cache: `webhook:<id>`, `mcp:<id>` (an MCP
/// server changed or was deleted) and `cycle:<id>` (a cycle's definition or state changed, which changes the
/// tools of the MCP servers that offer it).
public enum ConfigNotifications {
    public static let channel = "hookline_config"

    static func webhookChanged(_ id: UUID) -> String { "webhook:" + id.lowercased }
    static func mcpServerChanged(_ id: UUID) -> String { "mcp:" + id.lowercased }
    static func cycleChanged(_ id: UUID) -> String { "cycle:" + id.lowercased }

    /// What a payload on the channel names.
    public enum Subject: Sendable, Hashable {
        case webhook(UUID)
        case mcpServer(UUID)
        case cycle(UUID)

        public init?(payload: String) {
            guard let colon = payload.firstIndex(of: ":"),
                let id = UUID(uuidString: String(payload[payload.index(after: colon)...]))
            else { return nil }
            switch payload[..<colon] {
            case "webhook": self = .webhook(id)
            case "mcp": self = .mcpServer(id)
            case "cycle": self = .cycle(id)
            default: return nil
            }
        }
    }

    /// Marks the live row `id` of `table` deleted and tells every running instance (`payload` on the channel)
    /// in the same transaction; false when there is no such live row.
    static func softDelete(_ id: UUID, from table: String, announcing payload: String, on database: PostgresClient)
        async throws -> Bool
    {
        try await database.withTransaction { connection -> Bool in
            let rows = try connection.query(
                "UPDATE \(unsafe: table) SET deleted_at = now() WHERE id = \(id) AND deleted_at IS NULL")
            if rows.affectedRows > 0 { try connection.notify(channel, payload: payload) }
            return rows.affectedRows > 0
        }
    }
}
