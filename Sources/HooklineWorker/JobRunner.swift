import Hookline

/// What running a job came to.
public enum JobResult: Sendable, Equatable {
    /// Done: the job goes to history as `completed` with this outcome (`succeeded`, `filtered`, …).
    case completed(outcome: String)
    /// It failed. A retryable failure comes back after the cycle's backoff (or `retryAfter` seconds, when the
    /// other side said when), until its attempts run out; a permanent one is dead at once.
    case failed(error: String, permanent: Bool, retryAfter: Double? = nil)
}

/// Runs one claimed job: a cycle's steps in production, something simpler in tests.
///
/// Cancellation means the worker is shutting down or lost the job's lease: stop soon and throw
/// `CancellationError`; the job goes back to the queue without counting the attempt. Any other error is a
/// retryable failure.
public protocol JobRunner: Sendable {
    func run(_ job: ClaimedJob) async throws -> JobResult
}

/// The work of a job until the cycle runtime runs its steps: nothing, successfully.
public struct EmptyCycleRunner: JobRunner {
    public init() {}

    public func run(_ job: ClaimedJob) async throws -> JobResult { .completed(outcome: "succeeded") }
}
