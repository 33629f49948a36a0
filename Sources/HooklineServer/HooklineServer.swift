import Foundation
import Hookline
import HooklineMCP
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Postgres
import ServiceLifecycle

/// What the HTTP ingress needs from the outside.
public struct ServerDependencies: Sendable {
    /// The pool every route uses.
    public var database: PostgresClient
    /// The clock of token issue and expiry (tests drive it).
    public var now: @Sendable () -> Date
    public var logger: Logger
    /// How long the LISTEN connection may be quiet before it checks its server answers, and how long it
    /// waits for that answer (tests shorten it).
    public var listenerPing: Duration

    public init(
        database: PostgresClient, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger,
        listenerPing: Duration = .seconds(10)
    ) {
        self.database = database
        self.now = now
        self.logger = logger
        self.listenerPing = listenerPing
    }
}

/// Builds the Hookline HTTP application: the routes, and the services that live with it (the LISTEN
/// connection that carries token revocations). The executable and the tests both build it here.
///
/// Run it with `runService()` for graceful shutdown on SIGTERM and SIGINT: the server stops accepting,
/// answers what is in flight, and the revocation listener closes. The caller owns and closes the pool.
public func buildApplication(
    settings: ServerSettings, dependencies: ServerDependencies
) -> some ApplicationProtocol {
    let database = dependencies.database
    let caches = settings.caches
    let verifier = TokenVerifier(
        database: database, now: dependencies.now, maxEntries: caches.entries, timeToLive: caches.timeToLive,
        logger: dependencies.logger)
    let directory = WebhookDirectory(
        store: WebhookStore(database: database), maxEntries: caches.entries, timeToLive: caches.timeToLive)
    let clients = OAuthClientStore(
        database: database, now: dependencies.now, liveTokensPerClient: settings.maxTokensPerClient)
    let limiter = FailedAuthenticationLimiter(
        maxFailures: settings.authFailuresPerMinute, maxKeys: caches.authFailureKeys, now: dependencies.now)
    let metrics = IngressMetrics()
    // One rate per account, spent by webhook deliveries and MCP tool calls alike.
    let rateLimiter = settings.accountRateLimit.map {
        AccountRateLimiter(rate: $0, maxEntries: caches.accountRateBuckets)
    }
    let enqueuer = BatchingEnqueuer(
        database: database, maxBatch: settings.batchSize, maxBatchBytes: settings.maxBatchBytes,
        window: settings.batchWindow, metrics: metrics)

    // The request bodies held at once, by webhook deliveries and MCP messages together.
    let bodyBudget = BodyBudget(limit: settings.maxBufferedBytes, gauge: metrics.bufferedBytes)

    let router = Router(context: HooklineRequestContext.self)
    router.add(middleware: RequestLogMiddleware(metrics: metrics, accessLog: settings.accessLog))
    HealthRoutes(database: database).register(on: router)
    router.get("/metrics") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }
    OAuthRoutes(
        clients: clients, verifier: verifier, limiter: limiter, trustedProxies: settings.trustedProxies,
        maxFormBytes: settings.maxTokenFormBytes
    ).register(on: router)
    AdminRoutes(
        database: database, verifier: verifier, settings: settings, now: dependencies.now, logger: dependencies.logger
    ).register(on: router)
    ConsoleRoutes(
        database: database, verifier: verifier, clients: clients, limiter: limiter,
        transport: ConsoleTransport(publicURL: settings.publicURL, trustedProxies: settings.trustedProxies),
        trustedProxies: settings.trustedProxies, maxFormBytes: settings.maxConsoleFormBytes
    ).register(on: router)
    let intake = WebhookIntake(
        directory: directory, verifier: verifier, enqueuer: enqueuer, bodyBudget: bodyBudget, settings: settings,
        rateLimiter: rateLimiter, now: dependencies.now, logger: dependencies.logger)
    WebhookRoutes(intake: intake).register(on: router)

    let mcpDirectory = MCPServerDirectory(
        store: MCPServerStore(database: database), maxEntries: caches.mcpServers, timeToLive: caches.timeToLive)
    let sessions = MCPSessions(
        limits: settings.mcp, directory: mcpDirectory,
        toolbox: MCPToolbox(
            database: database, waiter: JobWaiter(database: database, maxWaiters: settings.mcp.maxWaitingCalls),
            enqueue: { try await enqueuer.enqueue($0) },
            admit: { rateLimiter?.take($0) }),
        allowedOrigins: settings.mcpAllowedOrigins, logger: dependencies.logger)
    MCPRoutes(
        directory: mcpDirectory, sessions: sessions, verifier: verifier, bodyBudget: bodyBudget, settings: settings
    ).register(on: router)

    // One LISTEN connection keeps the caches honest: token revocations, webhook and MCP server changes (which
    // open MCP sessions hear of as `notifications/tools/list_changed`).
    let listener = PostgresListener(
        connectionString: database.configuration.listenConnectionString,
        channels: [AuthNotifications.channel, ConfigNotifications.channel],
        pingInterval: dependencies.listenerPing, pingTimeout: dependencies.listenerPing
    ) { event in
        verifier.handle(event)
        directory.handle(event)
        if let subject = mcpDirectory.handle(event) { Task { await sessions.configurationChanged(subject) } }
    }
    return Application(
        router: router,
        server: .hookline(
            timeouts: .init(
                header: TimeAmount(settings.headerTimeout), body: TimeAmount(settings.bodyTimeout),
                keepAlive: TimeAmount(settings.keepAliveTimeout)),
            head: .init(
                maxHeaderFieldSize: settings.maxHeaderBytes, maxHeaderListSize: settings.maxHeaderBytes,
                maxHeaderFieldCount: settings.maxHeaderFields),
            maxRefusedBodyBytes: settings.maxRefusedBodyBytes, intake: intake, metrics: metrics),
        configuration: .init(
            address: .hostname(settings.host, port: settings.port), serverName: ServerSettings.serverName,
            availableConnectionsDelegate: MaximumAvailableConnections(settings.maxConnections)),
        services: [listener, MCPSessionSweeper(sessions: sessions)],
        logger: dependencies.logger)
}
