import Hookline
import Postgres

/// Runs one claimed job: a cycle's steps in production, something simpler in tests.
///
/// Cancellation means the worker is shutting down or lost the job's lease: stop soon and throw
/// `CancellationError`; the job goes back to the queue without counting the attempt. ``LeaseLost`` means
/// the same as a lost lease. Any other error is a retryable failure.
public protocol JobRunner: Sendable {
    /// - Parameter worker: the worker's name (`locked_by`), for statements that must hold the job's lease.
    func run(_ job: ClaimedJob, worker: String) async throws -> JobResult

    /// Runs the job at once, without suspending, if it needs nothing but memory; nil if it needs
    /// ``run(_:worker:)``. The worker runs claimed jobs this way first, inside the claim's transaction (except
    /// while it leases every claim, after a worker died), and finishes the completed ones there; the rest
    /// (nil, or a failure) get ``run(_:worker:)``.
    func runInMemory(_ job: ClaimedJob, worker: String) -> JobResult?

    /// Reads, inside the claim's transaction and before ``runInMemory(_:worker:)`` sees these jobs, what
    /// running them in memory needs from the database (a cycle's definition the first time a worker meets
    /// it). Throwing rolls the claim back.
    func prepareInMemory(_ jobs: [ClaimedJob], on connection: PostgresConnection) throws
}

extension JobRunner {
    public func runInMemory(_ job: ClaimedJob, worker: String) -> JobResult? { nil }

    public func prepareInMemory(_ jobs: [ClaimedJob], on connection: PostgresConnection) throws {}
}
