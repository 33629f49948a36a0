/// A failed step: what went wrong, whether trying again could help, and when.
public struct StepFailure: Error, Sendable, Hashable {
    public var message: String
    public var permanent: Bool
    /// When the other side said to try again (`Retry-After`), in seconds.
    public var retryAfter: Double?
    public var httpStatus: Int?
    /// What the step leaves as its output when the cycle ignores the failure.
    public var output: JSON?
    /// The step run written when the step started, which the failure finishes.
    public var rowID: Int64?

    public init(
        message: String, permanent: Bool, retryAfter: Double? = nil, httpStatus: Int? = nil, output: JSON? = nil,
        rowID: Int64? = nil
    ) {
        self.message = message
        self.permanent = permanent
        self.retryAfter = retryAfter
        self.httpStatus = httpStatus
        self.output = output
        self.rowID = rowID
    }
}
