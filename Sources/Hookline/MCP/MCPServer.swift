import Foundation

/// An MCP server: some of an account's cycles, offered as tools at `/mcp/{id}`.
public struct MCPServer: Sendable, Hashable, Encodable {
    /// A random UUID (122 random bits): the URL is unguessable.
    public var id: UUID
    public var accountID: UUID
    public var name: String
    public var description: String
    public var auth: MCPServerAuth
    /// The cycles offered, one tool each, in order.
    public var cycleIDs: [UUID]
    public var createdAt: Date
    public var updatedAt: Date

    /// The path MCP clients connect to.
    public var urlPath: String { "/mcp/\(id.lowercased)" }

    enum CodingKeys: String, CodingKey {
        case id, name, description, auth, url
        case accountID = "account_id"
        case cycleIDs = "cycle_ids"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(urlPath, forKey: .url)
        try container.encode(accountID, forKey: .accountID)
        try container.encode(name, forKey: .name)
        try container.encode(description, forKey: .description)
        try container.encode(auth, forKey: .auth)
        try container.encode(cycleIDs.map(\.lowercased), forKey: .cycleIDs)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}
