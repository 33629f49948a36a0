import ArgumentParser
import HooklineServer

/// `hookline serve`'s MCP settings: each a flag, an environment variable and a default, listed in the README.
struct MCPOptions: ParsableArguments {
    @Option(
        name: .customLong("mcp-max-sessions"),
        help: ArgumentHelp(
            "Open MCP sessions at most on this instance; past it initialize gets 503 (env: HOOKLINE_MCP_MAX_SESSIONS).",
            valueName: "n"))
    var maxSessions: Int?

    @Option(
        name: .customLong("mcp-session-idle-seconds"),
        help: ArgumentHelp(
            "An MCP session unused this long ends (env: HOOKLINE_MCP_SESSION_IDLE_SECONDS).", valueName: "seconds"))
    var idleSeconds: Int?

    @Option(
        name: .customLong("mcp-max-sessions-per-server"),
        help: ArgumentHelp(
            "Open sessions of one MCP server at most on this instance (env: HOOKLINE_MCP_MAX_SESSIONS_PER_SERVER).",
            valueName: "n"))
    var maxSessionsPerServer: Int?

    @Option(
        name: .customLong("mcp-session-max-bytes"),
        help: ArgumentHelp(
            "Bytes one MCP session may exchange before it ends, which bounds its memory (env: HOOKLINE_MCP_SESSION_MAX_BYTES).",
            valueName: "bytes"))
    var maxBytes: Int?

    @Option(
        name: .customLong("mcp-max-result-bytes"),
        help: ArgumentHelp(
            "Largest tool result; a larger one is an error naming the job (env: HOOKLINE_MCP_MAX_RESULT_BYTES).",
            valueName: "bytes"))
    var maxResultBytes: Int?

    @Option(
        name: .customLong("mcp-max-waiting-calls"),
        help: ArgumentHelp(
            "Tool calls waiting for their jobs at once on this instance; past it a call answers with its job's id at once (env: HOOKLINE_MCP_MAX_WAITING_CALLS).",
            valueName: "n"))
    var maxWaitingCalls: Int?

    @Option(
        name: .customLong("mcp-allowed-origin"),
        help: ArgumentHelp(
            "A browser origin allowed to call MCP servers; repeatable; none by default (env: HOOKLINE_MCP_ALLOWED_ORIGINS, comma-separated).",
            valueName: "origin"))
    var allowedOrigins: [String] = []

    @Option(
        name: .customLong("public-url"),
        help: ArgumentHelp(
            "The URL clients reach this server by, for the OAuth metadata MCP clients discover; default http:// and the request's Host (env: HOOKLINE_PUBLIC_URL).",
            valueName: "url"))
    var publicURL: String?

    /// Sets every MCP setting given by flag or environment on `settings`.
    func apply(to settings: inout ServerSettings) throws {
        settings.mcp.maxSessions =
            try maxSessions ?? Env.integer("HOOKLINE_MCP_MAX_SESSIONS") ?? settings.mcp.maxSessions
        if let seconds = try idleSeconds ?? Env.integer("HOOKLINE_MCP_SESSION_IDLE_SECONDS") {
            settings.mcp.idleTimeout = .seconds(seconds)
        }
        settings.mcp.maxSessionsPerServer =
            try maxSessionsPerServer ?? Env.integer("HOOKLINE_MCP_MAX_SESSIONS_PER_SERVER")
            ?? settings.mcp.maxSessionsPerServer
        settings.mcp.maxBytesPerSession =
            try maxBytes ?? Env.integer("HOOKLINE_MCP_SESSION_MAX_BYTES") ?? settings.mcp.maxBytesPerSession
        settings.mcp.maxResultBytes =
            try maxResultBytes ?? Env.integer("HOOKLINE_MCP_MAX_RESULT_BYTES") ?? settings.mcp.maxResultBytes
        settings.mcp.maxWaitingCalls =
            try maxWaitingCalls ?? Env.integer("HOOKLINE_MCP_MAX_WAITING_CALLS") ?? settings.mcp.maxWaitingCalls
        settings.mcpAllowedOrigins =
            allowedOrigins.isEmpty
            ? (Env.string("HOOKLINE_MCP_ALLOWED_ORIGINS")?.split(separator: ",").map(String.init) ?? [])
            : allowedOrigins
        settings.publicURL = (publicURL ?? Env.string("HOOKLINE_PUBLIC_URL")).map {
            $0.hasSuffix("/") ? String($0.dropLast()) : $0
        }
        if settings.mcp.maxSessions <= 0 || settings.mcp.maxSessionsPerServer <= 0
            || settings.mcp.maxBytesPerSession <= 0
            || settings.mcp.idleTimeout <= .zero
        {
            throw ValidationError("the MCP session limits must be positive")
        }
    }
}
