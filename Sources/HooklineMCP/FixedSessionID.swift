import MCP

/// The session id chosen by ``MCPSessions``, handed to the SDK's transport.
struct FixedSessionID: SessionIDGenerator {
    let id: String
    func generateSessionID() -> String { id }
}
