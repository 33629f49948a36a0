import Foundation

/// What a cycle tool's call came to.
public enum MCPToolCall: Sendable, Hashable {
    /// The job completed: the output of its last step that ran.
    case completed(jobID: Int64, output: JSON)
    /// The job ended without completing (`dead` or `cancelled`): an error result, with the job's last error.
    case failed(jobID: Int64, state: JobState, error: String)
    /// The job had not finished when the wait ran out: its id and state, for `get_job` later.
    case pending(jobID: Int64, state: JobState)
    /// The arguments broke the tool's input schema: every problem, with its JSON Pointer. Nothing was enqueued.
    case invalidArguments([String])
    /// The account is over its rate (`--account-rate-limit`): nothing was enqueued; try again in this many seconds.
    case rateLimited(retryAfter: Int)
}
