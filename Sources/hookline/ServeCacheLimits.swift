import ArgumentParser
import HooklineServer

/// `hookline serve`'s bounds of its in-memory caches and brakes: each a flag, an environment variable and a
/// default, listed in the README and in docs/operations.md.
struct ServeCacheLimits: ParsableArguments {
    @Option(
        name: .customLong("cache-entries"),
        help: ArgumentHelp(
            "Token records, and webhooks, cached at most, each (env: HOOKLINE_CACHE_ENTRIES).", valueName: "n"))
    var entries: Int?

    @Option(
        name: .customLong("cache-seconds"),
        help: ArgumentHelp(
            "How long a cached token record, webhook or MCP server is trusted at most (env: HOOKLINE_CACHE_SECONDS).",
            valueName: "seconds"))
    var seconds: Int?

    @Option(
        name: .customLong("mcp-cache-entries"),
        help: ArgumentHelp(
            "MCP servers, with their tools, cached at most (env: HOOKLINE_MCP_CACHE_ENTRIES).", valueName: "n"))
    var mcpServers: Int?

    @Option(
        name: .customLong("auth-failure-keys"),
        help: ArgumentHelp(
            "Client ID and address pairs the failed-login brake keeps at most (env: HOOKLINE_AUTH_FAILURE_KEYS).",
            valueName: "n"))
    var authFailureKeys: Int?

    @Option(
        name: .customLong("account-rate-buckets"),
        help: ArgumentHelp(
            "Accounts with a rate bucket at most; full buckets go first (env: HOOKLINE_ACCOUNT_RATE_BUCKETS).",
            valueName: "n"))
    var accountRateBuckets: Int?

    /// Sets every bound given by flag or environment on `caches`.
    func apply(to caches: inout CacheLimits) throws {
        func value(_ flag: Int?, _ variable: String) throws -> Int? { try flag ?? Env.integer(variable) }
        caches.entries = try value(entries, "HOOKLINE_CACHE_ENTRIES") ?? caches.entries
        caches.timeToLive = try value(seconds, "HOOKLINE_CACHE_SECONDS").map { .seconds($0) } ?? caches.timeToLive
        caches.mcpServers = try value(mcpServers, "HOOKLINE_MCP_CACHE_ENTRIES") ?? caches.mcpServers
        caches.authFailureKeys = try value(authFailureKeys, "HOOKLINE_AUTH_FAILURE_KEYS") ?? caches.authFailureKeys
        caches.accountRateBuckets =
            try value(accountRateBuckets, "HOOKLINE_ACCOUNT_RATE_BUCKETS") ?? caches.accountRateBuckets
    }
}
