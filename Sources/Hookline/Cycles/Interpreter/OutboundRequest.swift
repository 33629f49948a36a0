/// An http step's call, rendered and ready to send.
public struct OutboundRequest: Sendable, Hashable {
    public var method: String
    public var url: String
    /// In order, names as the cycle wrote them.
    public var headers: [Header]
    public var body: [UInt8]?
    /// The whole call's bound, from connecting to the last byte of the answer.
    public var timeoutSeconds: Double

    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(method: String, url: String, headers: [Header], body: [UInt8]?, timeoutSeconds: Double) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutSeconds = timeoutSeconds
    }
}
