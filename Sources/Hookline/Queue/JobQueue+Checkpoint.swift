import Foundation
import Postgres

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

    /// Saves progress and step runs in one transaction with the step's own writes (``CheckpointWrite``).
    ///
    /// Saving the same checkpoint again, after a first try that committed but whose answer was lost, writes
    /// nothing more: a checkpoint moves the job's next step forward, and one that finds it already there (under
    /// the same lease and attempt, or handed back by the same postponement) was saved.
    /// - Parameter attempt: the attempt that runs the job: a checkpoint of an earlier one (written again after
    ///   its lease ran out and this worker claimed the job anew) is refused as a lost lease.
    /// - Throws: ``LeaseLost`` when this worker no longer holds the job (nothing is written).
    public func checkpoint(
        _ id: Int64, worker: String, attempt: Int, _ checkpoint: StepCheckpoint, runs: [StepRunRecord],
        with write: CheckpointWrite = .none
    ) async throws {
        let postponed = if case .postpone = write { true } else { false }
        let held = try await database.withTransaction { connection -> Bool in
            switch try connection.advance(id, worker: worker, attempt: attempt, checkpoint, postponed: postponed) {
            case .lost: return false
            case .alreadySaved: return true
            case .saved:
                try connection.record(runs)
                try connection.perform(write, for: id)
                return true
            }
        }
        if !held { throw LeaseLost(jobID: id) }
    }

    /// The values `store` steps of `cycle` kept under these keys.
    public func storedValues(cycle: UUID, keys: [String]) async throws -> [String: JSON] {
        var found: [String: JSON] = [:]
        for row in try await database.query(
            "SELECT key, value FROM hookline.cycle_data WHERE cycle_id = \(cycle) AND key = ANY(\(keys))")
        {
            found[try row.decode(String.self, at: 0)] = try JSON(
                parsing: try row.decode(PostgresJSON.self, at: 1).bytes, maxDepth: CycleInterpreter.maxOutputDepth)
        }
        return found
    }
}

extension PostgresConnection {
    /// A step's own writes, in its checkpoint's transaction, after the job's progress has been saved.
    fileprivate func perform(_ write: CheckpointWrite, for id: Int64) throws {
        switch write {
        case .none:
            break
        case .store(let cycle, let key, let value):
            try query(
                """
                INSERT INTO hookline.cycle_data (cycle_id, key, value) VALUES (\(cycle), \(key), \(value))
                ON CONFLICT (cycle_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
                """)
        case .children(let nextStep, let outputs, let bodies, let copyHeaders):
            guard !bodies.isEmpty else { return }
            // A child holds its element, the parent's ids and policy, and of the parent's outputs and headers
            // only what the caller passed: not the parent's body.
            try query(
                """
                INSERT INTO hookline.jobs
                    (account_id, webhook_id, cycle_id, cycle_version, parent_id, state, priority, max_attempts,
                     next_step, step_outputs, headers, content_type, body, received_at)
                SELECT p.account_id, p.webhook_id, p.cycle_id, p.cycle_version, p.id,
                       -- The parent's cycle, read once for all the children (not once a child).
                       CASE WHEN (SELECT c.active FROM hookline.cycles c
                                  WHERE c.id = (SELECT cycle_id FROM hookline.jobs WHERE id = \(id)) FOR SHARE)
                                 IS FALSE THEN 'held' ELSE 'available' END,
                       p.priority, p.max_attempts, \(nextStep),
                       \(outputs), CASE WHEN \(copyHeaders) THEN p.headers ELSE '{}'::jsonb END,
                       'application/json', child.body, p.received_at
                FROM hookline.jobs p, unnest(\(bodies)::bytea[]) AS child(body)
                WHERE p.id = \(id)
                """)
            try notify(JobNotifications.channel)
        case .postpone(let seconds):
            try query(
                """
                UPDATE hookline.jobs j
                SET state = \(unsafe: JobQueue.waitingState(of: "j")), attempt = attempt - 1, locked_by = NULL,
                    locked_until = NULL, run_at = now() + make_interval(secs => \(seconds))
                WHERE id = \(id)
                """)
        }
    }
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

    /// Moves a job's progress forward to `checkpoint` if this worker still holds it in `attempt` and the job is
    /// not there yet.
    fileprivate func advance(
        _ id: Int64, worker: String, attempt: Int, _ checkpoint: StepCheckpoint, postponed: Bool
    ) throws -> CheckpointSave {
        let moved = try query(
            """
            UPDATE hookline.jobs SET next_step = \(checkpoint.nextStep), step_outputs = \(checkpoint.outputs)
            WHERE id = \(id) AND state = 'running' AND locked_by = \(worker) AND next_step < \(checkpoint.nextStep)
              AND attempt = \(attempt)
            """
        ).affectedRows
        if moved == 1 { return .saved }
        // Already there: still held, or (a postponement) handed back with its attempt given back.
        let there = try query(
            """
            SELECT 1 FROM hookline.jobs
            WHERE id = \(id) AND next_step >= \(checkpoint.nextStep)
              AND (state = 'running' AND locked_by = \(worker) AND attempt = \(attempt)
                   OR \(postponed) AND state IN ('available', 'held') AND locked_by IS NULL AND attempt = \(attempt) - 1)
            """)
        return there.isEmpty ? .lost : .alreadySaved
    }
}

/// What saving a checkpoint found.
private enum CheckpointSave {
    /// The job's progress was written: its step runs and the step's own writes go in the same transaction.
    case saved
    /// An earlier try of the same checkpoint committed (its answer lost): nothing more is written.
    case alreadySaved
    /// This worker no longer holds the job.
    case lost
}
