import Hookline

/// A failed step: what went wrong, whether trying again could help, and when.
struct StepFailure: Error {
    var message: String
    var permanent: Bool
    var retryAfter: Double?
    var httpStatus: Int?
    /// What the step leaves as its output when the cycle ignores the failure.
    var output: JSON?
    /// The step run written when the step started, which the failure finishes.
    var rowID: Int64?
}
