import Hookline

/// The bounds of the ingress's in-memory caches and brakes, each a flag of `hookline serve`: whatever callers
/// send, they hold at most this many entries.
public struct CacheLimits: Sendable, Hashable {
    /// Token records, and webhooks: each cache holds at most this many (`--cache-entries`).
    public var entries: Int = TokenVerifier.defaultMaxEntries
    /// How long a cached token record, webhook or MCP server is trusted at most, notified of or not
    /// (`--cache-seconds`).
    public var timeToLive: Duration = NotifiedCacheDefaults.timeToLive
    /// MCP servers with their tools (`--mcp-cache-entries`).
    public var mcpServers: Int = MCPServerDirectory.defaultMaxEntries
    /// Client ID and address pairs the failed-login brake keeps (`--auth-failure-keys`).
    public var authFailureKeys: Int = FailedAuthenticationLimiter.defaultMaxKeys
    /// Accounts with a rate bucket (`--account-rate-buckets`).
    public var accountRateBuckets: Int = AccountRateLimiter.defaultMaxEntries

    public init() {}

    /// Why these limits cannot work, if they cannot.
    var problem: String? {
        for (name, value) in [
            ("--cache-entries", entries), ("--mcp-cache-entries", mcpServers), ("--auth-failure-keys", authFailureKeys),
            ("--account-rate-buckets", accountRateBuckets),
        ] where value < 1 {
            return "\(name) must be at least 1"
        }
        if timeToLive < .seconds(1) || timeToLive > .seconds(86_400) {
            return "--cache-seconds must be from 1 to 86400 (a day)"
        }
        return nil
    }
}
