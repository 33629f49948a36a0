import ArgumentParser
import HooklineServer

/// `hookline serve`'s limits and timeouts: each a flag, an environment variable and a default, listed in the
/// README and in docs/operations.md. The caches' are in ``ServeCacheLimits``, the MCP sessions' in
/// ``MCPOptions``.
struct ServeLimits: ParsableArguments {
    @Option(
        name: .customLong("max-body-bytes"),
        help: ArgumentHelp("Largest webhook body accepted (env: HOOKLINE_MAX_BODY_BYTES).", valueName: "bytes"))
    var maxBodyBytes: Int?

    @Option(
        name: .customLong("max-buffered-bytes"),
        help: ArgumentHelp(
            "Request-body bytes held at once across all requests; past it deliveries get 503 (env: HOOKLINE_MAX_BUFFERED_BYTES).",
            valueName: "bytes"))
    var maxBufferedBytes: Int?

    @Option(
        name: .customLong("max-api-body-bytes"),
        help: ArgumentHelp("Largest admin API body accepted (env: HOOKLINE_MAX_API_BODY_BYTES).", valueName: "bytes"))
    var maxAPIBodyBytes: Int?

    @Option(
        name: .customLong("max-batch-bytes"),
        help: ArgumentHelp(
            "Body bytes in one INSERT; a larger delivery goes alone (env: HOOKLINE_MAX_BATCH_BYTES).",
            valueName: "bytes"))
    var maxBatchBytes: Int?

    @Option(
        name: .customLong("max-connections"),
        help: ArgumentHelp(
            "Open connections at most; more wait in the listen backlog (env: HOOKLINE_MAX_CONNECTIONS).", valueName: "n"
        ))
    var maxConnections: Int?

    @Option(
        name: .customLong("header-timeout"),
        help: ArgumentHelp(
            "Seconds a client has to send a request's head (env: HOOKLINE_HEADER_TIMEOUT).", valueName: "seconds"))
    var headerTimeout: Int?

    @Option(
        name: .customLong("body-timeout"),
        help: ArgumentHelp(
            "Seconds a request body may go without a byte (env: HOOKLINE_BODY_TIMEOUT).", valueName: "seconds"))
    var bodyTimeout: Int?

    @Option(
        name: .customLong("keep-alive-timeout"),
        help: ArgumentHelp(
            "Seconds an idle kept-alive connection stays open (env: HOOKLINE_KEEP_ALIVE_TIMEOUT).", valueName: "seconds"
        ))
    var keepAliveTimeout: Int?

    @Option(
        name: .customLong("database-timeout"),
        help: ArgumentHelp(
            "Seconds a database statement of the ingress may take before the request answers 503 (env: HOOKLINE_DATABASE_TIMEOUT).",
            valueName: "seconds"))
    var databaseTimeout: Int?

    @Option(
        name: .customLong("batch-max-deliveries"),
        help: ArgumentHelp("Deliveries in one INSERT at most (env: HOOKLINE_BATCH_MAX_DELIVERIES).", valueName: "n"))
    var batchMaxDeliveries: Int?

    @Option(
        name: .customLong("batch-window-ms"),
        help: ArgumentHelp(
            "While a batch commits, how long arriving deliveries gather before they go (env: HOOKLINE_BATCH_WINDOW_MS).",
            valueName: "ms"))
    var batchWindowMilliseconds: Int?

    @Option(
        name: .customLong("auth-failures-per-minute"),
        help: ArgumentHelp(
            "Failed client authentications per client ID and address in a minute before 429 (env: HOOKLINE_AUTH_FAILURES_PER_MINUTE).",
            valueName: "n"))
    var authFailuresPerMinute: Int?

    @Option(
        name: .customLong("max-token-form-bytes"),
        help: ArgumentHelp(
            "Largest form body at /oauth/token and /oauth/revoke (env: HOOKLINE_MAX_TOKEN_FORM_BYTES).",
            valueName: "bytes"))
    var maxTokenFormBytes: Int?

    @Option(
        name: .customLong("max-console-form-bytes"),
        help: ArgumentHelp("Largest console form body (env: HOOKLINE_MAX_CONSOLE_FORM_BYTES).", valueName: "bytes"))
    var maxConsoleFormBytes: Int?

    @Option(
        name: .customLong("max-idempotency-key-bytes"),
        help: ArgumentHelp(
            "A delivery's idempotency key longer than this is kept as its SHA-256 (env: HOOKLINE_MAX_IDEMPOTENCY_KEY_BYTES).",
            valueName: "bytes"))
    var maxIdempotencyKeyBytes: Int?

    @Option(
        name: .customLong("api-idempotency-claim-seconds"),
        help: ArgumentHelp(
            "How long an admin API Idempotency-Key whose request never answered holds off repeats (env: HOOKLINE_API_IDEMPOTENCY_CLAIM_SECONDS).",
            valueName: "seconds"))
    var apiIdempotencyClaimSeconds: Int?

    @Option(
        name: .customLong("max-header-bytes"),
        help: ArgumentHelp(
            "Largest request head, its header fields together (env: HOOKLINE_MAX_HEADER_BYTES).", valueName: "bytes"))
    var maxHeaderBytes: Int?

    @Option(
        name: .customLong("max-header-fields"),
        help: ArgumentHelp("Most header fields in a request (env: HOOKLINE_MAX_HEADER_FIELDS).", valueName: "n"))
    var maxHeaderFields: Int?

    /// Sets every limit given by flag or environment on `settings`.
    func apply(to settings: inout ServerSettings) throws {
        func value(_ flag: Int?, _ variable: String) throws -> Int? { try flag ?? Env.integer(variable) }
        func seconds(_ flag: Int?, _ variable: String) throws -> Duration? {
            try value(flag, variable).map { .seconds($0) }
        }
        settings.maxBodyBytes = try value(maxBodyBytes, "HOOKLINE_MAX_BODY_BYTES") ?? settings.maxBodyBytes
        settings.maxBufferedBytes =
            try value(maxBufferedBytes, "HOOKLINE_MAX_BUFFERED_BYTES") ?? settings.maxBufferedBytes
        settings.maxAPIBodyBytes =
            try value(maxAPIBodyBytes, "HOOKLINE_MAX_API_BODY_BYTES") ?? settings.maxAPIBodyBytes
        settings.maxBatchBytes = try value(maxBatchBytes, "HOOKLINE_MAX_BATCH_BYTES") ?? settings.maxBatchBytes
        settings.maxConnections = try value(maxConnections, "HOOKLINE_MAX_CONNECTIONS") ?? settings.maxConnections
        settings.headerTimeout = try seconds(headerTimeout, "HOOKLINE_HEADER_TIMEOUT") ?? settings.headerTimeout
        settings.bodyTimeout = try seconds(bodyTimeout, "HOOKLINE_BODY_TIMEOUT") ?? settings.bodyTimeout
        settings.keepAliveTimeout =
            try seconds(keepAliveTimeout, "HOOKLINE_KEEP_ALIVE_TIMEOUT") ?? settings.keepAliveTimeout
        settings.databaseTimeout =
            try seconds(databaseTimeout, "HOOKLINE_DATABASE_TIMEOUT") ?? settings.databaseTimeout
        settings.batchSize = try value(batchMaxDeliveries, "HOOKLINE_BATCH_MAX_DELIVERIES") ?? settings.batchSize
        settings.batchWindow =
            try value(batchWindowMilliseconds, "HOOKLINE_BATCH_WINDOW_MS").map { .milliseconds($0) }
            ?? settings.batchWindow
        settings.authFailuresPerMinute =
            try value(authFailuresPerMinute, "HOOKLINE_AUTH_FAILURES_PER_MINUTE") ?? settings.authFailuresPerMinute
        settings.maxTokenFormBytes =
            try value(maxTokenFormBytes, "HOOKLINE_MAX_TOKEN_FORM_BYTES") ?? settings.maxTokenFormBytes
        settings.maxConsoleFormBytes =
            try value(maxConsoleFormBytes, "HOOKLINE_MAX_CONSOLE_FORM_BYTES") ?? settings.maxConsoleFormBytes
        settings.maxIdempotencyKeyBytes =
            try value(maxIdempotencyKeyBytes, "HOOKLINE_MAX_IDEMPOTENCY_KEY_BYTES") ?? settings.maxIdempotencyKeyBytes
        settings.maxHeaderBytes = try value(maxHeaderBytes, "HOOKLINE_MAX_HEADER_BYTES") ?? settings.maxHeaderBytes
        settings.maxHeaderFields = try value(maxHeaderFields, "HOOKLINE_MAX_HEADER_FIELDS") ?? settings.maxHeaderFields
        settings.apiIdempotencyClaimTimeout =
            try seconds(apiIdempotencyClaimSeconds, "HOOKLINE_API_IDEMPOTENCY_CLAIM_SECONDS")
            ?? settings.apiIdempotencyClaimTimeout
    }
}
