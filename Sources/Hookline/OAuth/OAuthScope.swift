/// What a client's tokens are good for.
public enum OAuthScope: String, Sendable, Codable, CaseIterable {
    /// Account-level: the account's webhooks.
    case webhook
    /// Account-level: the account's MCP endpoint.
    case mcp
    /// Console-level: the admin API. Clients of this scope belong to no account.
    case api

    /// Whether clients of this scope belong to an account.
    public var isAccountLevel: Bool { self != .api }
}
