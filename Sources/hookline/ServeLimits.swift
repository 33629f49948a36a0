import ArgumentParser
import HooklineServer

/// `hookline serve`'s limits and timeouts: each a flag, an environment variable and a default, listed in the
/// README and in docs/operations.md. The caches' are in ``ServeCacheLimits``, the MCP sessions' in
/// ``MCPOptions``.
struct ServeLimits: ParsableArguments {
    @Option(help: .setting("Largest webhook body accepted", env: "HOOKLINE_MAX_BODY_BYTES", unit: "bytes"))
    var maxBodyBytes: Int?

    @Option(
        help: .setting(
            "Request-body bytes held at once across all requests; past it deliveries get 503",
            env: "HOOKLINE_MAX_BUFFERED_BYTES", unit: "bytes"))
    var maxBufferedBytes: Int?

    @Option(help: .setting("Largest admin API body accepted", env: "HOOKLINE_MAX_API_BODY_BYTES", unit: "bytes"))
    var maxAPIBodyBytes: Int?

    @Option(
        help: .setting(
            "Body bytes in one INSERT; a larger delivery goes alone", env: "HOOKLINE_MAX_BATCH_BYTES", unit: "bytes"))
    var maxBatchBytes: Int?

    @Option(
        help: .setting(
            "Open connections at most; more wait in the listen backlog", env: "HOOKLINE_MAX_CONNECTIONS", unit: "n"))
    var maxConnections: Int?

    @Option(
        help: .setting(
            "Seconds a client has to send a request's head", env: "HOOKLINE_HEADER_TIMEOUT", unit: "seconds"))
    var headerTimeout: Int?

    @Option(
        help: .setting("Seconds a request body may go without a byte", env: "HOOKLINE_BODY_TIMEOUT", unit: "seconds"))
    var bodyTimeout: Int?

    @Option(
        help: .setting(
            "Seconds an idle kept-alive connection stays open", env: "HOOKLINE_KEEP_ALIVE_TIMEOUT", unit: "seconds"))
    var keepAliveTimeout: Int?

    @Option(
        help: .setting(
            "Seconds a database statement of the ingress may take before the request answers 503",
            env: "HOOKLINE_DATABASE_TIMEOUT", unit: "seconds"))
    var databaseTimeout: Int?

    @Option(help: .setting("Deliveries in one INSERT at most", env: "HOOKLINE_BATCH_MAX_DELIVERIES", unit: "n"))
    var batchMaxDeliveries: Int?

    @Option(
        name: .customLong("batch-window-ms"),
        help: .setting(
            "While a batch commits, how long arriving deliveries gather before they go",
            env: "HOOKLINE_BATCH_WINDOW_MS", unit: "ms"))
    var batchWindowMilliseconds: Int?

    @Option(
        help: .setting(
            "Failed client authentications per client ID and address in a minute before 429",
            env: "HOOKLINE_AUTH_FAILURES_PER_MINUTE", unit: "n"))
    var authFailuresPerMinute: Int?

    @Option(
        help: .setting(
            "Live tokens one OAuth client keeps; issuing one more drops its oldest",
            env: "HOOKLINE_MAX_TOKENS_PER_CLIENT", unit: "n"))
    var maxTokensPerClient: Int?

    @Option(
        help: .setting(
            "Largest form body at /oauth/token and /oauth/revoke", env: "HOOKLINE_MAX_TOKEN_FORM_BYTES", unit: "bytes"))
    var maxTokenFormBytes: Int?

    @Option(help: .setting("Largest console form body", env: "HOOKLINE_MAX_CONSOLE_FORM_BYTES", unit: "bytes"))
    var maxConsoleFormBytes: Int?

    @Option(
        help: .setting(
            "A delivery's idempotency key longer than this is kept as its SHA-256",
            env: "HOOKLINE_MAX_IDEMPOTENCY_KEY_BYTES", unit: "bytes"))
    var maxIdempotencyKeyBytes: Int?

    @Option(
        help: .setting(
            "How long an admin API Idempotency-Key whose request never answered holds off repeats",
            env: "HOOKLINE_API_IDEMPOTENCY_CLAIM_SECONDS", unit: "seconds"))
    var apiIdempotencyClaimSeconds: Int?

    @Option(
        help: .setting(
            "Largest request head, its header fields together", env: "HOOKLINE_MAX_HEADER_BYTES", unit: "bytes"))
    var maxHeaderBytes: Int?

    @Option(help: .setting("Most header fields in a request", env: "HOOKLINE_MAX_HEADER_FIELDS", unit: "n"))
    var maxHeaderFields: Int?

    @Option(
        help: .setting(
            "Bytes of a refused request's body read and dropped to keep its connection; past it the connection closes",
            env: "HOOKLINE_MAX_REFUSED_BODY_BYTES", unit: "bytes"))
    var maxRefusedBodyBytes: Int?

    /// Sets every limit given by flag or environment on `settings`.
    func apply(to settings: inout ServerSettings) throws {
        let seconds: (Int) -> Duration = { .seconds($0) }
        try Env.set(&settings, \.maxBodyBytes, maxBodyBytes, "HOOKLINE_MAX_BODY_BYTES")
        try Env.set(&settings, \.maxBufferedBytes, maxBufferedBytes, "HOOKLINE_MAX_BUFFERED_BYTES")
        try Env.set(&settings, \.maxAPIBodyBytes, maxAPIBodyBytes, "HOOKLINE_MAX_API_BODY_BYTES")
        try Env.set(&settings, \.maxBatchBytes, maxBatchBytes, "HOOKLINE_MAX_BATCH_BYTES")
        try Env.set(&settings, \.maxConnections, maxConnections, "HOOKLINE_MAX_CONNECTIONS")
        try Env.set(&settings, \.headerTimeout, headerTimeout, "HOOKLINE_HEADER_TIMEOUT", seconds)
        try Env.set(&settings, \.bodyTimeout, bodyTimeout, "HOOKLINE_BODY_TIMEOUT", seconds)
        try Env.set(&settings, \.keepAliveTimeout, keepAliveTimeout, "HOOKLINE_KEEP_ALIVE_TIMEOUT", seconds)
        try Env.set(&settings, \.databaseTimeout, databaseTimeout, "HOOKLINE_DATABASE_TIMEOUT", seconds)
        try Env.set(&settings, \.batchSize, batchMaxDeliveries, "HOOKLINE_BATCH_MAX_DELIVERIES")
        try Env.set(&settings, \.batchWindow, batchWindowMilliseconds, "HOOKLINE_BATCH_WINDOW_MS") {
            .milliseconds($0)
        }
        try Env.set(&settings, \.authFailuresPerMinute, authFailuresPerMinute, "HOOKLINE_AUTH_FAILURES_PER_MINUTE")
        try Env.set(&settings, \.maxTokensPerClient, maxTokensPerClient, "HOOKLINE_MAX_TOKENS_PER_CLIENT")
        try Env.set(&settings, \.maxTokenFormBytes, maxTokenFormBytes, "HOOKLINE_MAX_TOKEN_FORM_BYTES")
        try Env.set(&settings, \.maxConsoleFormBytes, maxConsoleFormBytes, "HOOKLINE_MAX_CONSOLE_FORM_BYTES")
        try Env.set(&settings, \.maxIdempotencyKeyBytes, maxIdempotencyKeyBytes, "HOOKLINE_MAX_IDEMPOTENCY_KEY_BYTES")
        try Env.set(&settings, \.maxHeaderBytes, maxHeaderBytes, "HOOKLINE_MAX_HEADER_BYTES")
        try Env.set(&settings, \.maxHeaderFields, maxHeaderFields, "HOOKLINE_MAX_HEADER_FIELDS")
        try Env.set(&settings, \.maxRefusedBodyBytes, maxRefusedBodyBytes, "HOOKLINE_MAX_REFUSED_BODY_BYTES")
        try Env.set(
            &settings, \.apiIdempotencyClaimTimeout, apiIdempotencyClaimSeconds,
            "HOOKLINE_API_IDEMPOTENCY_CLAIM_SECONDS", seconds)
    }
}
