import Hookline

/// Settings of the HTTP ingress (`hookline serve`), with the defaults that DESIGN.md fixes.
public struct ServerSettings: Sendable, Hashable {
    /// The address to listen on.
    public var host: String
    /// The TCP port to listen on.
    public var port: Int
    /// Webhook bodies larger than this are refused with 413.
    public var maxBodyBytes: Int
    /// Proxies whose `X-Forwarded-For` is believed (for IP allow-lists); none by default.
    public var trustedProxies: [CIDR]
    /// Webhook requests per second per account (per instance); `nil`: no limit.
    public var accountRateLimit: Double?
    /// The most deliveries in one INSERT.
    public var batchSize: Int
    /// While a batch commits, how long new deliveries gather before they go (an idle ingress never waits).
    public var batchWindow: Duration

    public init(
        host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 10 * 1024 * 1024,
        trustedProxies: [CIDR] = [], accountRateLimit: Double? = nil, batchSize: Int = 128,
        batchWindow: Duration = .milliseconds(2)
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.trustedProxies = trustedProxies
        self.accountRateLimit = accountRateLimit
        self.batchSize = batchSize
        self.batchWindow = batchWindow
    }
}
