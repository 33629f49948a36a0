import Postgres

/// Where a job is: waiting or running in the hot table (`hookline.jobs`), or finished in history
/// (`hookline.job_history`). The database's CHECK constraints hold the same list.
public enum JobState: String, PostgresTextEnum, CaseIterable, Sendable, Codable {
    /// Waiting for a worker once `run_at` has come.
    case available
    /// Claimed by a worker, under its lease.
    case running
    /// Waiting for its cycle to be activated.
    case held
    /// Finished; its outcome says how.
    case completed
    /// Failed for good (attempts spent, or a permanent failure), its error recorded.
    case dead
    /// Cancelled by an operator before it ran.
    case cancelled

    /// The states of jobs still in the hot table.
    public static let waitingOrRunning: [JobState] = [.available, .running, .held]

    /// Whether an operator may put a job in this state back in the queue (`hookline jobs retry`).
    public var isRetryable: Bool { self == .dead || self == .cancelled }
}
