import ArgumentParser
import Hookline
import HooklineServer
import Logging
import ServiceLifecycle

extension HooklineCLI {
    /// `hookline serve`: the HTTP ingress.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the HTTP ingress: webhooks, MCP servers, the token, admin and health routes.",
            discussion: "Stops gracefully on SIGTERM or SIGINT: no new connections, in-flight requests answered.")

        @OptionGroup var database: DatabaseOptions

        @Option(help: .setting("Address to listen on", env: "HOOKLINE_HOST", unit: "host"))
        var host: String?

        @Option(help: .setting("Port to listen on", env: "HOOKLINE_PORT", unit: "port"))
        var port: Int?

        @OptionGroup var limits: ServeLimits

        @OptionGroup var caches: ServeCacheLimits

        @OptionGroup var mcp: MCPOptions

        @Option(
            name: .customLong("trusted-proxy"),
            help: .setting(
                "A proxy (CIDR) whose X-Forwarded-For is believed; repeatable",
                env: "HOOKLINE_TRUSTED_PROXIES, comma-separated", unit: "cidr"))
        var trustedProxies: [String] = []

        @Option(
            help: .setting(
                "Webhook requests and MCP tool calls per second per account, per instance; off by default",
                env: "HOOKLINE_ACCOUNT_RATE_LIMIT", unit: "n"))
        var accountRateLimit: Double?

        @Option(help: .setting("PostgreSQL connections in the pool", env: "HOOKLINE_POOL_SIZE", unit: "n"))
        var poolSize: Int?

        @OptionGroup var log: LogOptions

        @Flag(
            help: ArgumentHelp(
                "Log every request (method, path, status, time) at info level; off by default: it costs a tenth "
                    + "of a webhook's CPU (env: HOOKLINE_ACCESS_LOG=on)."))
        var accessLog = false

        @Flag(
            help: ArgumentHelp(
                "Answer webhook deliveries through the router instead of the channel pipeline's fast path: "
                    + "slower; to compare the two, or to rule the fast path out (env: HOOKLINE_ROUTER_WEBHOOKS=on)."))
        var routerWebhooks = false

        var settings: ServerSettings {
            get throws {
                let defaults = ServerSettings()
                let networks = try Env.list(trustedProxies, "HOOKLINE_TRUSTED_PROXIES").map { text -> CIDR in
                    guard let network = CIDR(text) else {
                        throw ValidationError("--trusted-proxy \(text) is not a CIDR")
                    }
                    return network
                }
                var rate = accountRateLimit
                if rate == nil, let text = Env.string("HOOKLINE_ACCOUNT_RATE_LIMIT") {
                    guard let parsed = Double(text) else {
                        throw ValidationError("HOOKLINE_ACCOUNT_RATE_LIMIT must be a number")
                    }
                    rate = parsed
                }
                var settings = ServerSettings(
                    host: host ?? Env.string("HOOKLINE_HOST") ?? defaults.host,
                    port: try port ?? Env.integer("HOOKLINE_PORT") ?? defaults.port,
                    trustedProxies: networks, accountRateLimit: rate)
                settings.accessLog = try accessLog || Env.onOff("HOOKLINE_ACCESS_LOG") == true
                let routed = try routerWebhooks || Env.onOff("HOOKLINE_ROUTER_WEBHOOKS") == true
                settings.webhookFastPath = !routed
                try limits.apply(to: &settings)
                try caches.apply(to: &settings.caches)
                try mcp.apply(to: &settings)
                return settings
            }
        }

        func validate() throws {
            let settings = try settings
            guard (0...65535).contains(settings.port) else { throw ValidationError("--port must be 0–65535") }
            if let problem = settings.problem { throw ValidationError(problem) }
            if let rate = settings.accountRateLimit, rate <= 0 {
                throw ValidationError("--account-rate-limit must be positive")
            }
            if let pool = try poolSize ?? Env.integer("HOOKLINE_POOL_SIZE") {
                try ValidationError.check(pool, in: DatabaseOptions.poolSizes, "--pool-size")
            }
        }

        func run() async throws {
            LargeAllocations.returnToTheSystemWhenFreed()
            try await reportingFailures {
                let logger = log.logger("hookline")
                let pool = try poolSize ?? Env.integer("HOOKLINE_POOL_SIZE") ?? 16
                let settings = try settings
                let client = try database.client(
                    maxConnections: pool, applicationName: "hookline-serve", statementTimeout: settings.databaseTimeout)
                // Graceful shutdown closes the pool as a service; a failed group leaves it to this.
                defer { client.closeBeforeExit() }
                let app = buildApplication(
                    settings: settings, dependencies: ServerDependencies(database: client, logger: logger))
                // Graceful shutdown stops services last to first: the database closes after the application.
                let group = ServiceGroup(
                    configuration: .init(
                        services: [client, app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
            }
        }
    }
}
