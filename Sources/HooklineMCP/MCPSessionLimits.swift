/// The bounds of an instance's MCP sessions, each a flag of `hookline serve`.
public struct MCPSessionLimits: Sendable, Hashable {
    /// Open sessions at most, across all servers; past it an `initialize` is refused with 503.
    public var maxSessions: Int
    /// A session unused this long is ended (its next request gets 404, and the client starts a new one).
    public var idleTimeout: Duration
    /// Requests one session may make; then it is ended the same way. The SDK's transport keeps every message
    /// of a session for replay (`Last-Event-ID`), so this bounds a session's memory.
    public var maxRequestsPerSession: Int

    public init(maxSessions: Int = 10_000, idleTimeout: Duration = .seconds(600), maxRequestsPerSession: Int = 1_000) {
        self.maxSessions = maxSessions
        self.idleTimeout = idleTimeout
        self.maxRequestsPerSession = maxRequestsPerSession
    }
}
