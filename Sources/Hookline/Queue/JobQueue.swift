import Foundation
import Postgres

/// The job queue's statements: claim in batches with `FOR UPDATE SKIP LOCKED`, extend leases, finish into
/// history, retry with backoff, dead-letter, and reclaim jobs whose worker died.
///
/// A claimed job is `running` with `locked_by` (the worker) and `locked_until` (its lease). Finishing and
/// retrying require the lease to still be the caller's, so a worker that lost its lease (it stalled, the
/// reaper handed the job to someone else) cannot overwrite the new owner's work.
public struct JobQueue: Sendable {
    public let database: PostgresClient

    public init(database: PostgresClient) { self.database = database }

    /// The advisory lock that lets one reaper run at a time.
    static let reaperLockKey: Int64 = 0x686f_6f6b_7265_6170

    /// Claims up to `limit` available jobs whose `run_at` has come, highest priority first, then oldest,
    /// and leases them all to `worker`: each turns `running`, its attempt counted.
    ///
    /// Concurrent workers skip each other's rows instead of waiting on them.
    public func claim(limit: Int, worker: String, leaseSeconds: Int) async throws -> [ClaimedJob] {
        try await claim(limit: limit, worker: worker, leaseSeconds: leaseSeconds) { _, _ in [] }.leased
    }

    /// What a claim that finished jobs in its own transaction did.
    public struct Claim: Sendable {
        /// The jobs now `running` under this worker's lease, to be run as usual.
        public var leased: [ClaimedJob]
        /// The jobs finished (moved to history) in the claim's transaction.
        public var finished: [Completion]
    }

    /// Claims like ``claim(limit:worker:leaseSeconds:)``, but first hands the jobs to `finish`, which runs
    /// those it can at once and returns their completions: they are moved to history in the claim's own
    /// transaction, and only the others are leased (`running`), all in one commit.
    ///
    /// Until that commit the row locks stand for the lease; if the worker dies first, the transaction rolls
    /// back and every job is `available` as before, its attempt not counted. So `finish` may only run what
    /// leaves no trace outside the transaction (steps that need nothing but memory), and a job that kills
    /// its worker there comes back uncounted: the supervisor restarts a dead worker with leased claims for a
    /// while (``WorkerSettings/leasedClaimsUntil``), which count its attempts. A finished job needs no second
    /// row version for `running`, nor index entries for it, nor a second commit.
    /// - Parameter finish: runs in the transaction, on the database thread, with the transaction's connection
    ///   (for reads the run needs, such as a cycle's definition); throwing rolls the claim back.
    public func claim(
        limit: Int, worker: String, leaseSeconds: Int,
        finishing finish: @escaping @Sendable (PostgresConnection, [ClaimedJob]) throws -> [Completion]
    ) async throws -> Claim {
        try await database.withTransaction { connection -> Claim in
            let jobs = try connection.query(
                .prepared(
                    """
                    SELECT id, account_id, webhook_id, cycle_id, cycle_version, attempt + 1, max_attempts, next_step,
                           step_outputs, headers, content_type, body, received_at,
                           now() + make_interval(secs => \(Double(leaseSeconds)))
                    FROM hookline.jobs
                    WHERE state = 'available' AND run_at <= now()
                    ORDER BY priority DESC, run_at, id
                    LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED
                    """)
            ).map(ClaimedJob.init(row:))
            guard !jobs.isEmpty else { return Claim(leased: [], finished: []) }
            let completions = try finish(connection, jobs)
            var finished: Set<Int64> = []
            if !completions.isEmpty {
                finished = try connection.complete(completions.sorted { $0.id < $1.id }, worker: nil)
            }
            let leased = jobs.filter { !finished.contains($0.id) }
            if !leased.isEmpty {
                // now() is the transaction's start, so the lease is the one the jobs were read with.
                try connection.query(
                    .prepared(
                        """
                        UPDATE hookline.jobs
                        SET state = 'running', attempt = attempt + 1, locked_by = \(worker),
                            locked_until = now() + make_interval(secs => \(Double(leaseSeconds)))
                        WHERE id = ANY(\(leased.map(\.id)))
                        """))
            }
            return Claim(leased: leased, finished: completions.filter { finished.contains($0.id) })
        }
    }

    /// Extends the leases of jobs this worker still holds; returns the ids it still holds.
    ///
    /// Only leases with less than `renewWithinSeconds` left are written (a job claimed moments ago needs
    /// nothing yet: fast jobs then finish without ever being rewritten), and rows that a completion of this
    /// worker has locked are skipped rather than waited for. Waiting is what made heartbeats and
    /// completions deadlock, each holding rows of one batch the other wanted; a skipped job is being
    /// finished, or, if that fails, is renewed by the next heartbeat.
    public func heartbeat(
        _ ids: [Int64], worker: String, leaseSeconds: Int, renewWithinSeconds: Double? = nil
    ) async throws -> Set<Int64> {
        let within = renewWithinSeconds ?? Double(leaseSeconds)
        let rows = try await database.query(
            .prepared(
                """
                WITH due AS (
                    SELECT id FROM hookline.jobs
                    WHERE id = ANY(\(ids)) AND state = 'running' AND locked_by = \(worker)
                      AND locked_until < now() + make_interval(secs => \(within))
                    ORDER BY id
                    FOR UPDATE SKIP LOCKED
                ),
                extended AS (
                    UPDATE hookline.jobs j SET locked_until = now() + make_interval(secs => \(Double(leaseSeconds)))
                    FROM due WHERE j.id = due.id
                )
                SELECT id FROM hookline.jobs WHERE id = ANY(\(ids)) AND state = 'running' AND locked_by = \(worker)
                """))
        return Set(try rows.map { try $0.decode(Int64.self, at: 0) })
    }

    /// Moves finished jobs into `job_history` as `completed` with their outcome, in one transaction with
    /// their removal from the hot table. Returns the ids this worker still held (and so finished).
    @discardableResult
    public func complete(_ ids: [Int64], worker: String, outcome: JobOutcome = .succeeded) async throws -> Set<Int64> {
        try await complete(ids.map { Completion(id: $0, outcome: outcome) }, worker: worker)
    }

    /// A finished job: its outcome, and the progress and step runs to record with it.
    public struct Completion: Sendable {
        public var id: Int64
        /// The attempt that finished: the job is finished only while it is still on that attempt, so a run
        /// whose lease ran out cannot finish the job under the attempt that took it over, even one of the same
        /// worker. Nil: whichever attempt the worker holds (tools and tests; workers always give it).
        public var attempt: Int?
        public var outcome: JobOutcome
        public var checkpoint: StepCheckpoint?
        public var runs: [StepRunRecord]

        public init(
            id: Int64, attempt: Int? = nil, outcome: JobOutcome, checkpoint: StepCheckpoint? = nil,
            runs: [StepRunRecord] = []
        ) {
            self.id = id
            self.attempt = attempt
            self.outcome = outcome
            self.checkpoint = checkpoint
            self.runs = runs
        }
    }

    /// Finishes jobs as `completed` in one statement (`hookline.complete_jobs`): their last step outputs
    /// saved, their step runs written, and the jobs moved into `job_history`. Only jobs this worker still
    /// holds are touched; returns their ids.
    @discardableResult
    public func complete(_ completions: [Completion], worker: String) async throws -> Set<Int64> {
        // In id order: the statement deletes (and so locks) rows in the order of the array, and statements
        // that wait for row locks must all take them in one order, or two of them can deadlock (PostgreSQL
        // breaks that only after deadlock_timeout, a second, failing one). Heartbeats and the reaper skip
        // locked rows instead of waiting.
        let completions = completions.sorted { $0.id < $1.id }
        return try await database.withConnection { connection in
            try connection.complete(completions, worker: worker)
        }
    }

    /// What became of a failed job.
    public enum FailureOutcome: Sendable, Equatable {
        /// It waits for its next attempt, at this time.
        case retrying(at: Date)
        /// Attempts are spent (or the failure was permanent): it is `dead` in history with its error.
        case dead
        /// This worker no longer held it; nothing changed.
        case notHeld
    }

    /// Records a failed attempt, with the job's progress (`checkpoint`: a retry resumes at the failed step)
    /// and its step runs: the job is retried after the policy's backoff, or, when `permanent` or out of
    /// attempts, moved to history as `dead`. The error joins the job's error history either way. `delay`, when
    /// given (the other side's `Retry-After`), replaces the policy's backoff, within its `maxBackoffSeconds`.
    /// `attempt`, when given, must still be the job's (as in ``Completion/attempt``), else nothing changes.
    public func fail(
        _ id: Int64, attempt: Int? = nil, worker: String, error: String, permanent: Bool = false,
        policy: RetryPolicy = .default,
        delay: Double? = nil, checkpoint: StepCheckpoint? = nil, runs: [StepRunRecord] = []
    ) async throws -> FailureOutcome {
        try await database.withTransaction { connection -> FailureOutcome in
            let rows = try connection.query(
                """
                SELECT attempt, max_attempts FROM hookline.jobs
                WHERE id = \(id) AND state = 'running' AND locked_by = \(worker)
                  AND (\(attempt)::integer IS NULL OR attempt = \(attempt))
                FOR UPDATE
                """)
            guard let row = rows.first else { return .notHeld }
            let (attempt, maxAttempts) = try row.decode((Int, Int).self)
            let dead = permanent || attempt >= maxAttempts
            if let checkpoint { _ = try connection.checkpoint(id, worker: worker, checkpoint) }
            // A step run that said `retry` says `failed` when no retry will come.
            try connection.record(
                runs.map { run in
                    var run = run
                    if dead, run.outcome == .retry { run.outcome = .failed }
                    return run
                })
            if dead {
                try connection.query(
                    """
                    UPDATE hookline.jobs SET last_error = \(error), errors = errors || jsonb_build_array(
                        jsonb_build_object('attempt', attempt, 'error', \(error)::text, 'at', now()))
                    WHERE id = \(id)
                    """)
                try connection.query("SELECT hookline.move_to_history(ARRAY[\(id)::bigint], 'dead', 'failed')")
                return .dead
            }
            let delay =
                delay.map { min(max(0, $0), policy.maxBackoffSeconds) } ?? policy.backoff(afterAttempt: attempt)
            let runAt = try connection.query(
                """
                UPDATE hookline.jobs j
                SET state = \(unsafe: Self.waitingState(of: "j")), locked_by = NULL, locked_until = NULL,
                    last_error = \(error),
                    errors = errors || jsonb_build_array(
                        jsonb_build_object('attempt', attempt, 'error', \(error)::text, 'at', now())),
                    run_at = now() + make_interval(secs => \(delay))
                WHERE id = \(id) RETURNING run_at
                """)[0].decode(Date.self, at: 0)
            return .retrying(at: runAt)
        }
    }

    /// Makes running jobs whose lease ran out available again (their worker died or stalled); the attempt
    /// they used stays counted, and a job that has used all its attempts this way goes to history as `dead`
    /// (a job that kills its worker every time must not be retried forever). Only one reaper runs at a time
    /// (an advisory lock; the others return 0). Returns how many jobs were reclaimed or dead-lettered.
    public func reclaimExpiredLeases() async throws -> Int {
        try await database.withTransaction { connection -> Int in
            let locked = try connection.query("SELECT pg_try_advisory_xact_lock(\(Self.reaperLockKey))")[0]
                .decode(Bool.self, at: 0)
            guard locked else { return 0 }
            let message = "lease expired: the worker stopped renewing it"
            // Rows a worker is finishing right now are skipped, not waited for (and locked in id order),
            // so that the reaper never deadlocks with a batch completion.
            let expired = try connection.query(
                """
                WITH due AS (
                    SELECT id FROM hookline.jobs WHERE state = 'running' AND locked_until < now()
                    ORDER BY id FOR UPDATE SKIP LOCKED
                )
                UPDATE hookline.jobs j
                SET last_error = \(message),
                    errors = errors || jsonb_build_array(
                        jsonb_build_object('attempt', attempt, 'error', \(message)::text, 'at', now())),
                    state = CASE WHEN attempt >= max_attempts THEN state ELSE \(unsafe: Self.waitingState(of: "j")) END,
                    locked_by = CASE WHEN attempt >= max_attempts THEN locked_by END,
                    locked_until = CASE WHEN attempt >= max_attempts THEN locked_until END,
                    run_at = now()
                FROM due WHERE j.id = due.id
                RETURNING j.id, j.attempt >= j.max_attempts
                """)
            let exhausted = try expired.filter { try $0.decode(Bool.self, at: 1) }.map {
                try $0.decode(Int64.self, at: 0)
            }
            let dead = try connection.query(
                "SELECT hookline.move_to_history(\(exhausted), 'dead', 'failed')"
            ).count
            let reclaimed = expired.count - exhausted.count
            if reclaimed > 0 { try connection.notify(JobNotifications.channel) }
            return dead + reclaimed
        }
    }

    /// Hands running jobs back to the queue as `available` at once, without counting the attempt they were
    /// given: the worker is shutting down and did not get to finish them, which says nothing about the jobs.
    /// Only jobs this worker still holds are touched; other workers are woken for them. Returns the ids.
    @discardableResult
    public func release(_ ids: [Int64], worker: String) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        let rows = try await database.withTransaction { connection -> PostgresResult in
            let rows = try connection.query(
                """
                WITH mine AS (
                    SELECT id FROM hookline.jobs WHERE id = ANY(\(ids)) AND state = 'running' AND locked_by = \(worker)
                    ORDER BY id FOR UPDATE
                )
                UPDATE hookline.jobs j
                SET state = \(unsafe: Self.waitingState(of: "j")), attempt = j.attempt - 1, locked_by = NULL,
                    locked_until = NULL, run_at = now()
                FROM mine WHERE j.id = mine.id
                RETURNING j.id
                """)
            if rows.count > 0 { try connection.notify(JobNotifications.channel) }
            return rows
        }
        return Set(try rows.map { try $0.decode(Int64.self, at: 0) })
    }

    /// Runs the daily housekeeping (`hookline.maintain_history`): deletes old idempotency keys, step runs and
    /// expired tokens, then creates the coming days' history partitions and drops those older than `keepDays`.
    /// The partition changes take their locks with a short `lock_timeout` and retry rather than queue every
    /// completion behind them, and wait for a later run if the history stays busy (a line says so). One
    /// caller at a time does the work; the others get nothing back. Returns what was done, one line each.
    public func maintainHistory(keepDays: Int) async throws -> [String] {
        try await database.query("SELECT hookline.maintain_history(\(keepDays)::integer)").map {
            try $0.decode(String.self, at: 0)
        }
    }

    /// The state a job of the row `alias` waits in when it comes back to wait (a retry, a reclaimed lease, a
    /// release, a delay's end, a split's child): `held` while its cycle is stopped, else `available`. The
    /// cycle's row is read `FOR SHARE`, as the ingress and ``followCycleState(_:)`` read it, so a stop or an
    /// activation and this move exclude each other.
    static func waitingState(of alias: String) -> String {
        """
        CASE WHEN (SELECT c.active FROM hookline.cycles c WHERE c.id = \(alias).cycle_id FOR SHARE) IS FALSE
             THEN 'held' ELSE 'available' END
        """
    }

    /// Jobs in the hot table by state, for the queue-depth gauge.
    public func depthByState() async throws -> [JobState: Int] {
        var depth: [JobState: Int] = [:]
        for row in try await database.query("SELECT state, count(*) FROM hookline.jobs GROUP BY state") {
            depth[try row.decode(JobState.self, at: 0)] = try row.decode(Int.self, at: 1)
        }
        return depth
    }
}

extension PostgresConnection {
    /// `hookline.complete_jobs`: moves the jobs to history as `completed` with their outputs and step runs,
    /// the jobs `worker` holds, or with a nil worker the available jobs this transaction has locked (a claim
    /// that finishes what it ran). Returns the ids it finished.
    fileprivate func complete(_ completions: [JobQueue.Completion], worker: String?) throws -> Set<Int64> {
        let runs = completions.flatMap(\.runs)
        let rows = try query(
            .prepared(
                """
                SELECT hookline.complete_jobs(
                    \(worker), \(completions.map(\.id))::bigint[], \(completions.map(\.attempt))::integer[],
                    \(completions.map(\.outcome))::text[],
                    \(completions.map { $0.checkpoint?.outputs })::jsonb[],
                    \(runs.map(\.jobID))::bigint[], \(runs.map(\.stepID))::text[], \(runs.map(\.attempt))::integer[],
                    \(runs.map(\.startedAt))::timestamptz[], \(runs.map(\.finishedAt))::timestamptz[],
                    \(runs.map(\.outcome))::text[], \(runs.map(\.error))::text[], \(runs.map(\.httpStatus))::integer[],
                    \(runs.map(\.rowID))::bigint[])
                """))
        return Set(try rows.map { try $0.decode(Int64.self, at: 0) })
    }
}
