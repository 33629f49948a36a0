/// What running a job came to.
public enum JobResult: Sendable, Equatable {
    /// Done: the job goes to history as `completed` with this outcome (`succeeded`, `filtered`, `split`),
    /// its last progress and step runs recorded in the same transaction.
    case completed(outcome: JobOutcome, checkpoint: StepCheckpoint? = nil, runs: [StepRunRecord] = [])
    /// It failed. A retryable failure comes back after the cycle's backoff (or `retryAfter` seconds, when the
    /// other side said when), until its attempts run out; a permanent one is dead at once. The progress is
    /// saved, so a retry resumes at the failed step.
    case failed(
        error: String, permanent: Bool, retryAfter: Double? = nil, checkpoint: StepCheckpoint? = nil,
        runs: [StepRunRecord] = [])
    /// The runner put the job back in the queue itself (a `delay` step): nothing more to record.
    case postponed
}
