import Foundation
import Postgres

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

/// Where a job stands in its cycle: the next step to run and the outputs of those done.
public struct StepCheckpoint: Sendable, Hashable {
    public var nextStep: Int
    public var outputs: PostgresJSON

    public init(nextStep: Int, outputs: PostgresJSON) {
        self.nextStep = nextStep
        self.outputs = outputs
    }
}

extension PostgresConnection {
    /// Writes step runs: inserts new rows, finishes those written when their step started.
    func record(_ runs: [StepRunRecord]) throws {
        let fresh = runs.filter { $0.rowID == nil }
        if !fresh.isEmpty {
            try query(
                """
                INSERT INTO hookline.step_runs
                    (job_id, step_id, attempt, started_at, finished_at, outcome, error, http_status)
                SELECT * FROM unnest(\(fresh.map(\.jobID))::bigint[], \(fresh.map(\.stepID))::text[],
                                     \(fresh.map(\.attempt))::integer[], \(fresh.map(\.startedAt))::timestamptz[],
                                     \(fresh.map(\.finishedAt))::timestamptz[], \(fresh.map(\.outcome))::text[],
                                     \(fresh.map(\.error))::text[], \(fresh.map(\.httpStatus))::integer[])
                """)
        }
        for run in runs {
            guard let rowID = run.rowID else { continue }
            try query(
                """
                UPDATE hookline.step_runs
                SET finished_at = \(run.finishedAt), outcome = \(run.outcome), error = \(run.error),
                    http_status = \(run.httpStatus)
                WHERE id = \(rowID)
                """)
        }
    }

    /// Saves a job's progress if this worker still holds it; false when it does not (nothing written).
    func checkpoint(_ id: Int64, worker: String, _ checkpoint: StepCheckpoint) throws -> Bool {
        try query(
            """
            UPDATE hookline.jobs SET next_step = \(checkpoint.nextStep), step_outputs = \(checkpoint.outputs)
            WHERE id = \(id) AND state = 'running' AND locked_by = \(worker)
            """
        ).affectedRows == 1
    }
}

/// This worker no longer holds the job: the reaper gave it to another worker, or an operator moved it.
public struct LeaseLost: Error, CustomStringConvertible {
    public var jobID: Int64
    public var description: String { "lost the lease of job \(jobID)" }
}

extension JobQueue {
    /// Writes the start of a step attempt (for steps with effects outside, whose start must be on record even
    /// if the worker dies during them); returns the row's id for ``StepRunRecord/rowID``.
    public func startStep(job: Int64, step: String, attempt: Int, at started: Date) async throws -> Int64 {
        try await database.query(
            """
            INSERT INTO hookline.step_runs (job_id, step_id, attempt, started_at)
            VALUES (\(job), \(step), \(attempt), \(started))
            RETURNING id
            """
        )[0].decode(Int64.self, at: 0)
    }

    /// Saves progress and step runs in one transaction, with `also` (the step's own writes: a `store` step's
    /// value, a `split` step's children) in the same transaction.
    /// - Throws: ``LeaseLost`` when this worker no longer holds the job (nothing is written).
    public func checkpoint(
        _ id: Int64, worker: String, _ checkpoint: StepCheckpoint, runs: [StepRunRecord],
        also: @escaping @Sendable (PostgresConnection) throws -> Void = { _ in }
    ) async throws {
        let held = try await database.withTransaction { connection -> Bool in
            guard try connection.checkpoint(id, worker: worker, checkpoint) else { return false }
            try connection.record(runs)
            try also(connection)
            return true
        }
        if !held { throw LeaseLost(jobID: id) }
    }

    /// Puts a running job back to wait until `seconds` from now (a `delay` step), its progress saved and the
    /// attempt not counted: waiting is not trying.
    /// - Throws: ``LeaseLost`` when this worker no longer holds the job.
    public func postpone(
        _ id: Int64, worker: String, seconds: Double, _ checkpoint: StepCheckpoint, runs: [StepRunRecord]
    ) async throws {
        try await self.checkpoint(id, worker: worker, checkpoint, runs: runs) { connection in
            try connection.query(
                """
                UPDATE hookline.jobs
                SET state = 'available', attempt = attempt - 1, locked_by = NULL, locked_until = NULL,
                    run_at = now() + make_interval(secs => \(seconds))
                WHERE id = \(id)
                """)
        }
    }
}
