import ArgumentParser
import HooklineServer

/// `hookline serve`'s limits and timeouts: each a flag, an environment variable and a default, listed in the
/// README and in docs/operations.md.
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
    }
}
