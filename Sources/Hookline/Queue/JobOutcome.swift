import Postgres

/// How a job in history ended: the `outcome` column of `hookline.job_history`.
public enum JobOutcome: String, PostgresTextEnum, Sendable {
    /// Every step ran (state `completed`).
    case succeeded
    /// A `filter` step stopped it (state `completed`).
    case filtered
    /// A `split` step handed its work to child jobs (state `completed`).
    case split
    /// A step failed for good (state `dead`).
    case failed
    /// An operator cancelled it (state `cancelled`).
    case cancelled
}
