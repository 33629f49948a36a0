import Hookline
import HooklineMCP

/// Settings of the HTTP ingress (`hookline serve`), with their defaults. Every limit here has a flag and a line
/// in the README's "Limits" table.
public struct ServerSettings: Sendable, Hashable {
    /// The address to listen on.
    public var host: String
    /// The TCP port to listen on.
    public var port: Int
    /// Webhook bodies larger than this are refused with 413.
    public var maxBodyBytes: Int
    /// The request-body bytes held at once across all requests; past it a delivery gets 503.
    public var maxBufferedBytes: Int
    /// Admin API bodies larger than this are refused with 413.
    public var maxAPIBodyBytes: Int
    /// Proxies whose `X-Forwarded-For` is believed (for IP allow-lists and the login brake); none by default.
    public var trustedProxies: [CIDR]
    /// Authenticated webhook requests per second per account (per instance); `nil`: no limit.
    public var accountRateLimit: Double?
    /// The most deliveries in one INSERT (at most ``largestBatch``).
    public var batchSize: Int
    /// The most bytes of deliveries (bodies, headers, content types, keys) in one INSERT (a single larger
    /// delivery still goes, alone).
    public var maxBatchBytes: Int
    /// While a batch commits, how long new deliveries gather before they go (an idle ingress never waits); at
    /// most a second.
    public var batchWindow: Duration
    /// How long a client may take to send a request's head, from its first byte (and a new connection to
    /// start one).
    public var headerTimeout: Duration
    /// How long a request body may go without a byte arriving.
    public var bodyTimeout: Duration
    /// How long a kept-alive connection may sit idle between requests.
    public var keepAliveTimeout: Duration
    /// The most open connections; past it new connections wait in the listen backlog.
    public var maxConnections: Int
    /// The longest a database statement of the ingress may run (server side); the client gives up on a
    /// connection that has not answered a few seconds after it.
    public var databaseTimeout: Duration
    /// The bounds of this instance's MCP sessions.
    public var mcp: MCPSessionLimits
    /// Browser origins allowed to call MCP servers (an `Origin` header not listed gets 403); none by default.
    public var mcpAllowedOrigins: [String]
    /// Whether every request is logged (method, path, status, time) at info level. Off by default: the line
    /// cost some 25 µs of `serve`'s CPU per webhook, a tenth of it (scripts/bench's ingress phase at the
    /// defaults, three runs each: 220–244 µs with the line, 206–213 µs without).
    public var accessLog: Bool = false
    /// Whether webhook deliveries are answered in the channel pipeline (``WebhookChannelHandler``) rather than
    /// through the router. On by default; off only to compare the two, or to rule the fast path out.
    public var webhookFastPath: Bool = true
    /// The URL clients reach this instance by (`https://hooks.example.com`), for the OAuth metadata that MCP
    /// clients discover; `nil`: `http://` and the request's `Host`.
    public var publicURL: String?
    /// Failed client authentications per client ID and client address within a minute, after which the
    /// token endpoint and the console's sign-in answer 429 until the oldest is a minute old.
    public var authFailuresPerMinute = FailedAuthenticationLimiter.defaultMaxFailures
    /// The live tokens one client keeps: issuing one more drops its oldest (``OAuthClientStore/issueToken(to:)``).
    public var maxTokensPerClient = OAuthClientStore.defaultLiveTokensPerClient
    /// Form bodies at `/oauth/token` and `/oauth/revoke` larger than this are refused (400 `invalid_request`).
    public var maxTokenFormBytes = OAuthRoutes.defaultMaxFormBytes
    /// Console form bodies larger than this are refused (413).
    public var maxConsoleFormBytes = ConsoleForm.defaultMaxBytes
    /// A delivery's idempotency key longer than this (in bytes of UTF-8) is kept as `sha256:` and the hex of
    /// its SHA-256 (at most ``largestIdempotencyKey``).
    public var maxIdempotencyKeyBytes = SignatureCheck.defaultMaxKeyBytes
    /// How long an admin API `Idempotency-Key` claimed by a request that never answered holds off repeats
    /// before one may take it over; at most a day (how long keys are kept).
    public var apiIdempotencyClaimTimeout = APIIdempotencyStore.defaultStaleClaim
    /// The largest request head (its header fields together, and any one of them): past it the connection is
    /// closed.
    public var maxHeaderBytes = 80 << 10
    /// The most header fields in a request: past it the connection is closed.
    public var maxHeaderFields = 1_000
    /// What is read and dropped of the rest of a body whose request was answered before it was read (a
    /// refusal), to keep the connection: past it the connection is closed.
    public var maxRefusedBodyBytes = 256 << 10
    /// The bounds of the caches and brakes.
    public var caches = CacheLimits()

    /// The `Server` header of every answer.
    static let serverName = "hookline"

    /// The largest body one delivery can carry to PostgreSQL: a protocol message holds at most 1 GiB − 1
    /// bytes, and the delivery's headers and the statement's other parameters need some of it.
    public static let largestStorableBody = (1 << 30) - 1 - (1 << 20)

    /// The most `batchSize` may be: batches are bounded by their bytes as well, and one this large already
    /// holds its connection for a long statement.
    public static let largestBatch = 10_000

    /// The most `maxIdempotencyKeyBytes` may be: a key is part of a B-tree index entry
    /// (`hookline.idempotency_keys`' primary key), which PostgreSQL caps at about 2,700 bytes.
    public static let largestIdempotencyKey = 2_048

    /// The most `authFailuresPerMinute` may be: the brake keeps that many times for each of its keys.
    public static let mostAuthFailuresPerMinute = 1_000

    public init(
        host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 10 << 20, maxBufferedBytes: Int = 512 << 20,
        trustedProxies: [CIDR] = [], accountRateLimit: Double? = nil, batchSize: Int = 128,
        maxBatchBytes: Int = 64 << 20, batchWindow: Duration = .milliseconds(2), headerTimeout: Duration = .seconds(60),
        bodyTimeout: Duration = .seconds(60), keepAliveTimeout: Duration = .seconds(75), maxConnections: Int = 4096,
        databaseTimeout: Duration = .seconds(10), mcp: MCPSessionLimits = .init(), mcpAllowedOrigins: [String] = [],
        publicURL: String? = nil, maxAPIBodyBytes: Int = 1 << 20
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.maxBufferedBytes = maxBufferedBytes
        self.maxAPIBodyBytes = maxAPIBodyBytes
        self.trustedProxies = trustedProxies
        self.accountRateLimit = accountRateLimit
        self.batchSize = batchSize
        self.maxBatchBytes = maxBatchBytes
        self.batchWindow = batchWindow
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.keepAliveTimeout = keepAliveTimeout
        self.maxConnections = maxConnections
        self.databaseTimeout = databaseTimeout
        self.mcp = mcp
        self.mcpAllowedOrigins = mcpAllowedOrigins
        self.publicURL = publicURL
    }

    /// Why these settings cannot work, if they cannot.
    public var problem: String? {
        if maxBodyBytes <= 0 { return "--max-body-bytes must be positive" }
        if maxBodyBytes > Self.largestStorableBody {
            return
                "--max-body-bytes \(maxBodyBytes) is more than one PostgreSQL protocol message can carry with its headers (at most \(Self.largestStorableBody))"
        }
        if maxBufferedBytes < maxBodyBytes {
            return "--max-buffered-bytes must be at least --max-body-bytes, or no body of the largest size could arrive"
        }
        if maxBatchBytes <= 0 || maxBatchBytes > Self.largestStorableBody {
            return "--max-batch-bytes must be from 1 to \(Self.largestStorableBody) (one protocol message)"
        }
        if databaseTimeout > .seconds(86_400) { return "--database-timeout must be at most a day (86400 s)" }
        if maxConnections <= 0 { return "--max-connections must be positive" }
        if maxAPIBodyBytes <= 0 { return "--max-api-body-bytes must be positive" }
        for (name, value) in [
            ("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout),
            ("--keep-alive-timeout", keepAliveTimeout), ("--database-timeout", databaseTimeout),
        ] where value <= .zero {
            return "\(name) must be positive"
        }
        return limitProblem ?? caches.problem ?? mcpProblem
    }

    /// Why the limits beyond the sizes and timeouts above cannot work, if they cannot.
    private var limitProblem: String? {
        if !(1...Self.largestBatch).contains(batchSize) {
            return "--batch-max-deliveries must be from 1 to \(Self.largestBatch)"
        }
        if batchWindow < .zero || batchWindow > .seconds(1) { return "--batch-window-ms must be from 0 to 1000" }
        if !(1...Self.mostAuthFailuresPerMinute).contains(authFailuresPerMinute) {
            return "--auth-failures-per-minute must be from 1 to \(Self.mostAuthFailuresPerMinute)"
        }
        if maxHeaderBytes < 1 { return "--max-header-bytes must be at least 1" }
        if !(1...1_000_000).contains(maxTokensPerClient) { return "--max-tokens-per-client must be from 1 to 1000000" }
        if maxHeaderFields < 1 { return "--max-header-fields must be at least 1" }
        if maxRefusedBodyBytes < 0 { return "--max-refused-body-bytes must be 0 or more" }
        if maxTokenFormBytes < 1 { return "--max-token-form-bytes must be at least 1" }
        if maxConsoleFormBytes < 1 { return "--max-console-form-bytes must be at least 1" }
        if !(1...Self.largestIdempotencyKey).contains(maxIdempotencyKeyBytes) {
            return
                "--max-idempotency-key-bytes must be from 1 to \(Self.largestIdempotencyKey) (a key is part of an index entry)"
        }
        if apiIdempotencyClaimTimeout < .seconds(1) || apiIdempotencyClaimTimeout > APIIdempotencyStore.retention {
            return "--api-idempotency-claim-seconds must be from 1 to 86400 (how long keys are kept)"
        }
        return nil
    }

    /// Why the MCP limits cannot work, if they cannot.
    private var mcpProblem: String? {
        if mcp.maxResultBytes < 1 { return "--mcp-max-result-bytes must be at least 1" }
        if mcp.maxWaitingCalls < 0 { return "--mcp-max-waiting-calls must be 0 or more" }
        return nil
    }
}
