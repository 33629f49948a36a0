/// Settings of the HTTP ingress (`hookline serve`), with the defaults that DESIGN.md fixes.
public struct ServerSettings: Sendable, Hashable {
    /// The address to listen on.
    public var host: String
    /// The TCP port to listen on.
    public var port: Int
    /// Webhook bodies larger than this are refused with 413.
    public var maxBodyBytes: Int

    public init(host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 10 * 1024 * 1024) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
    }
}
