import ArgumentParser
import HooklineServer

/// `hookline serve`'s bounds of its in-memory caches and brakes: each a flag, an environment variable and a
/// default, listed in the README and in docs/operations.md.
struct ServeCacheLimits: ParsableArguments {
    @Option(
        name: .customLong("cache-entries"),
        help: .setting("Token records, and webhooks, cached at most, each", env: "HOOKLINE_CACHE_ENTRIES", unit: "n"))
    var entries: Int?

    @Option(
        name: .customLong("cache-seconds"),
        help: .setting(
            "How long a cached token record, webhook or MCP server is trusted at most",
            env: "HOOKLINE_CACHE_SECONDS", unit: "seconds"))
    var seconds: Int?

    @Option(
        name: .customLong("mcp-cache-entries"),
        help: .setting("MCP servers, with their tools, cached at most", env: "HOOKLINE_MCP_CACHE_ENTRIES", unit: "n"))
    var mcpServers: Int?

    @Option(
        help: .setting(
            "Client ID and address pairs the failed-login brake keeps at most", env: "HOOKLINE_AUTH_FAILURE_KEYS",
            unit: "n"))
    var authFailureKeys: Int?

    @Option(
        help: .setting(
            "Accounts with a rate bucket at most; full buckets go first", env: "HOOKLINE_ACCOUNT_RATE_BUCKETS",
            unit: "n"))
    var accountRateBuckets: Int?

    /// Sets every bound given by flag or environment on `caches`.
    func apply(to caches: inout CacheLimits) throws {
        try Env.set(&caches, \.entries, entries, "HOOKLINE_CACHE_ENTRIES")
        try Env.set(&caches, \.timeToLive, seconds, "HOOKLINE_CACHE_SECONDS") { .seconds($0) }
        try Env.set(&caches, \.mcpServers, mcpServers, "HOOKLINE_MCP_CACHE_ENTRIES")
        try Env.set(&caches, \.authFailureKeys, authFailureKeys, "HOOKLINE_AUTH_FAILURE_KEYS")
        try Env.set(&caches, \.accountRateBuckets, accountRateBuckets, "HOOKLINE_ACCOUNT_RATE_BUCKETS")
    }
}
