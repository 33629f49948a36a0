import Foundation

/// Everything a cycle run does outside its own memory: the interpreter decides, this does. The worker's
/// implementation writes to PostgreSQL through the queue and calls out through its HTTP client; a test's
/// keeps what it is asked in memory.
///
/// Each method acts for one job under one worker's lease.
public protocol CycleEffects: Sendable {
    /// The values `store` steps of `cycle` kept under these keys.
    /// - Throws: ``StepFailure`` (retryable) when they cannot be read; `CancellationError` when the run was.
    func storedValues(cycle: UUID, keys: [String]) async throws -> [String: JSON]

    /// Writes the start of a step with effects outside (an http call), so that a call cut short by a crash is
    /// on record; returns the step run's row for ``StepRunRecord/rowID``.
    func startStep(job: Int64, step: String, attempt: Int, at started: Date) async throws -> Int64

    /// Makes an http step's call.
    /// - Throws: ``StepFailure`` for an answer or an error that fails the step.
    func call(_ request: OutboundRequest) async throws -> OutboundResponse

    /// Saves the job's progress and step runs, with `write` (a stored value, children, a postponement), all in
    /// one transaction.
    /// - Throws: ``LeaseLost`` when the worker no longer holds the job: nothing is written.
    func save(job: Int64, _ checkpoint: StepCheckpoint, runs: [StepRunRecord], with write: CheckpointWrite) async throws
}
