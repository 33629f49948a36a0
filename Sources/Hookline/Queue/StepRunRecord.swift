import Foundation

/// One attempt at one step, for `hookline.step_runs` (the cycle's transaction log).
public struct StepRunRecord: Sendable, Hashable {
    /// Set when the row was written when the step started (an `http` step): finishing updates it.
    public var rowID: Int64?
    public var jobID: Int64
    public var stepID: String
    public var attempt: Int
    public var startedAt: Date
    public var finishedAt: Date
    public var outcome: StepRunOutcome
    public var error: String?
    public var httpStatus: Int?

    public init(
        rowID: Int64? = nil, jobID: Int64, stepID: String, attempt: Int, startedAt: Date, finishedAt: Date = Date(),
        outcome: StepRunOutcome, error: String? = nil, httpStatus: Int? = nil
    ) {
        self.rowID = rowID
        self.jobID = jobID
        self.stepID = stepID
        self.attempt = attempt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.error = error
        self.httpStatus = httpStatus
    }
}
