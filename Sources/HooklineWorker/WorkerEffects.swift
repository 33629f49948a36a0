import Foundation
import Hookline
import Postgres

/// A cycle run's effects as a worker performs them: PostgreSQL through the queue, under the worker's lease,
/// and calls out through its ``HTTPCaller``.
struct WorkerEffects: CycleEffects {
    let queue: JobQueue
    let caller: HTTPCaller
    /// The worker's name (`locked_by`): every write holds its lease.
    let worker: String
    /// The attempt that runs the job: a checkpoint holds it as it holds the lease.
    let attempt: Int
    /// How checkpoints are written again while the database cannot be reached.
    let retry: UnreachableRetry

    func storedValues(cycle: UUID, keys: [String]) async throws -> [String: JSON] {
        do {
            return try await queue.storedValues(cycle: cycle, keys: keys)
        } catch let error as PostgresError where error.kind == .cancelled {
            // The read was cancelled with the run (the worker's drain): no failure of the job's.
            throw CancellationError()
        } catch let error as PostgresError {
            throw StepFailure(message: "looking up stored values failed: \(error)", permanent: false)
        }
    }

    func startStep(job: Int64, step: String, attempt: Int, at started: Date) async throws -> Int64 {
        try await queue.startStep(job: job, step: step, attempt: attempt, at: started)
    }

    func call(_ request: OutboundRequest) async throws -> OutboundResponse { try await caller.call(request) }

    func save(job: Int64, _ checkpoint: StepCheckpoint, runs: [StepRunRecord], with write: CheckpointWrite)
        async throws
    {
        // Written again in place after a lost connection: the step's call has been made, and failing the
        // attempt would make it again. A second try after a first that committed unseen writes nothing more
        // (``JobQueue/checkpoint(_:worker:attempt:_:runs:with:)``).
        try await retry.run("saving a step's checkpoint", job: job) {
            try await queue.checkpoint(job, worker: worker, attempt: attempt, checkpoint, runs: runs, with: write)
        }
    }
}
