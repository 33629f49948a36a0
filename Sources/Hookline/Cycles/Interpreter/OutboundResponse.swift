/// The successful answer to an http step's call.
public struct OutboundResponse: Sendable, Hashable {
    public var status: Int
    /// The step's output: `status`, `headers` (lower-cased names) and `body` (JSON when it parses, else text).
    public var output: JSON

    public init(status: Int, output: JSON) {
        self.status = status
        self.output = output
    }
}
