import ArgumentParser
import HooklineServer

/// `hookline serve`'s MCP settings: each a flag, an environment variable and a default, listed in the README.
struct MCPOptions: ParsableArguments {
    @Option(
        name: .customLong("mcp-max-sessions"),
        help: .setting(
            "Open MCP sessions at most on this instance; past it initialize gets 503",
            env: "HOOKLINE_MCP_MAX_SESSIONS", unit: "n"))
    var maxSessions: Int?

    @Option(
        name: .customLong("mcp-max-sessions-per-account"),
        help: .setting(
            "Open sessions of one account's MCP servers at most on this instance",
            env: "HOOKLINE_MCP_MAX_SESSIONS_PER_ACCOUNT", unit: "n"))
    var maxSessionsPerAccount: Int?

    @Option(
        name: .customLong("mcp-session-idle-seconds"),
        help: .setting(
            "An MCP session unused this long ends", env: "HOOKLINE_MCP_SESSION_IDLE_SECONDS", unit: "seconds"))
    var idleSeconds: Int?

    @Option(
        name: .customLong("mcp-max-sessions-per-server"),
        help: .setting(
            "Open sessions of one MCP server at most on this instance", env: "HOOKLINE_MCP_MAX_SESSIONS_PER_SERVER",
            unit: "n"))
    var maxSessionsPerServer: Int?

    @Option(
        name: .customLong("mcp-session-max-bytes"),
        help: .setting(
            "Bytes one MCP session may exchange before it ends, which bounds its memory",
            env: "HOOKLINE_MCP_SESSION_MAX_BYTES", unit: "bytes"))
    var maxBytes: Int?

    @Option(
        name: .customLong("mcp-max-result-bytes"),
        help: .setting(
            "Largest tool result; a larger one is an error naming the job", env: "HOOKLINE_MCP_MAX_RESULT_BYTES",
            unit: "bytes"))
    var maxResultBytes: Int?

    @Option(
        name: .customLong("mcp-max-waiting-calls"),
        help: .setting(
            "Tool calls waiting for their jobs at once on this instance; past it a call answers with its job's id at once",
            env: "HOOKLINE_MCP_MAX_WAITING_CALLS", unit: "n"))
    var maxWaitingCalls: Int?

    @Option(
        name: .customLong("mcp-max-streams-per-session"),
        help: .setting(
            "Event streams one MCP session has open at once; a new one past it ends the session's oldest",
            env: "HOOKLINE_MCP_MAX_STREAMS_PER_SESSION", unit: "n"))
    var maxStreamsPerSession: Int?

    @Option(
        name: .customLong("mcp-max-calls-per-session"),
        help: .setting(
            "Tool calls one MCP session runs at once; one more is refused at once",
            env: "HOOKLINE_MCP_MAX_CALLS_PER_SESSION", unit: "n"))
    var maxCallsPerSession: Int?

    @Option(
        name: .customLong("mcp-allowed-origin"),
        help: .setting(
            "A browser origin allowed to call MCP servers; repeatable; none by default",
            env: "HOOKLINE_MCP_ALLOWED_ORIGINS, comma-separated", unit: "origin"))
    var allowedOrigins: [String] = []

    @Option(
        name: .customLong("public-url"),
        help: .setting(
            "The URL clients reach this server by, for the OAuth metadata MCP clients discover; default http:// and the request's Host",
            env: "HOOKLINE_PUBLIC_URL", unit: "url"))
    var publicURL: String?

    /// Sets every MCP setting given by flag or environment on `settings`.
    func apply(to settings: inout ServerSettings) throws {
        try Env.set(&settings, \.mcp.maxSessions, maxSessions, "HOOKLINE_MCP_MAX_SESSIONS")
        try Env.set(&settings, \.mcp.idleTimeout, idleSeconds, "HOOKLINE_MCP_SESSION_IDLE_SECONDS") { .seconds($0) }
        try Env.set(&settings, \.mcp.maxSessionsPerServer, maxSessionsPerServer, "HOOKLINE_MCP_MAX_SESSIONS_PER_SERVER")
        try Env.set(
            &settings, \.mcp.maxSessionsPerAccount, maxSessionsPerAccount, "HOOKLINE_MCP_MAX_SESSIONS_PER_ACCOUNT")
        try Env.set(&settings, \.mcp.maxBytesPerSession, maxBytes, "HOOKLINE_MCP_SESSION_MAX_BYTES")
        try Env.set(&settings, \.mcp.maxResultBytes, maxResultBytes, "HOOKLINE_MCP_MAX_RESULT_BYTES")
        try Env.set(&settings, \.mcp.maxWaitingCalls, maxWaitingCalls, "HOOKLINE_MCP_MAX_WAITING_CALLS")
        try Env.set(
            &settings, \.mcp.maxStreamsPerSession, maxStreamsPerSession, "HOOKLINE_MCP_MAX_STREAMS_PER_SESSION")
        try Env.set(&settings, \.mcp.maxCallsPerSession, maxCallsPerSession, "HOOKLINE_MCP_MAX_CALLS_PER_SESSION")
        settings.mcpAllowedOrigins = Env.list(allowedOrigins, "HOOKLINE_MCP_ALLOWED_ORIGINS")
        settings.publicURL = (publicURL ?? Env.string("HOOKLINE_PUBLIC_URL")).map {
            $0.hasSuffix("/") ? String($0.dropLast()) : $0
        }
        if settings.mcp.maxSessions <= 0 || settings.mcp.maxSessionsPerServer <= 0
            || settings.mcp.maxSessionsPerAccount <= 0
            || settings.mcp.maxBytesPerSession <= 0 || settings.mcp.maxStreamsPerSession <= 0
            || settings.mcp.maxCallsPerSession <= 0
            || settings.mcp.idleTimeout <= .zero
        {
            throw ValidationError("the MCP session limits must be positive")
        }
        guard settings.mcp.maxCallsPerSession < settings.mcp.maxStreamsPerSession else {
            throw ValidationError(
                "--mcp-max-calls-per-session must be below --mcp-max-streams-per-session: each call's answer is a stream, beside the session's own"
            )
        }
    }
}
