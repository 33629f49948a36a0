/// Who may call an MCP server.
public enum MCPServerAuth: String, Sendable, Codable, CaseIterable {
    /// Tokens of the account's `mcp`-scoped OAuth clients (RFC 6750), discoverable through RFC 9728 metadata.
    case bearer
    /// The unguessable URL is the secret.
    case none
}
