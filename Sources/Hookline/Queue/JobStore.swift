import Foundation
import Postgres

/// Operators' view of jobs: list, retry, cancel, count. Reads both the hot table and history.
public struct JobStore: Sendable {
    public let database: PostgresClient

    public init(database: PostgresClient) { self.database = database }

    /// Jobs, newest first, optionally of one state, account, cycle and webhook, and older than the job `before`
    /// (the cursor of the next page: ids only grow, so pages stay stable while jobs arrive). With `finishedSince`,
    /// history is read only from then on (its partition key: the older partitions are not read at all).
    public func list(
        state: JobState? = nil, account: UUID? = nil, cycle: UUID? = nil, webhook: UUID? = nil, before: Int64? = nil,
        finishedSince: Date? = nil, limit: Int = 100
    ) async throws -> [JobSummary] {
        try await database.query(
            """
            SELECT id, account_id, webhook_id, cycle_id, state, attempt, max_attempts, at, last_error FROM (
                SELECT id, account_id, webhook_id, cycle_id, state, attempt, max_attempts, run_at AS at, last_error
                FROM hookline.jobs
                UNION ALL
                SELECT id, account_id, webhook_id, cycle_id, state, attempt, max_attempts, finished_at, last_error
                FROM hookline.job_history
                -- One comparison with the partition key (no OR), so that PostgreSQL prunes partitions.
                WHERE finished_at >= coalesce(\(finishedSince)::timestamptz, '-infinity')
            ) j
            WHERE (\(state)::text IS NULL OR state = \(state)) AND (\(account)::uuid IS NULL OR account_id = \(account))
              AND (\(cycle)::uuid IS NULL OR cycle_id = \(cycle)) AND (\(webhook)::uuid IS NULL OR webhook_id = \(webhook))
              AND (\(before)::bigint IS NULL OR id < \(before))
            ORDER BY id DESC LIMIT \(limit)
            """
        ).map(Self.summary)
    }

    /// Puts dead or cancelled jobs back in the queue as `available` (`held` when their cycle is stopped), with
    /// their attempts reset and their error history kept: one by `id`, or all that match `account`, `cycle` and
    /// `state` (`dead` by default).
    ///
    /// A job resumes at the step it stopped at (the one that failed), with the outputs of the steps before it,
    /// so that a call that had succeeded is not made again; with `fromStart`, it starts over from the first
    /// step with no outputs. (A job that finished before history kept its step starts over either way.)
    ///
    /// The matching jobs move ``retryBatch`` at a time in id order, each batch in a transaction of its own: a
    /// retry of the whole install neither holds every row (and the cycles, read `FOR SHARE`) in one long
    /// transaction nor keeps the workers waiting for it to commit. Only jobs up to the highest id in history
    /// when it begins are taken, and each batch starts past the last: jobs that die later with higher ids are
    /// not chased, and a job it requeued that dies again is not taken twice (one with a lower id that dies
    /// ahead of the batches is taken). An error part-way leaves the batches before it requeued; the rest are
    /// still there for another retry. Returns the ids requeued.
    public func retry(
        id: Int64? = nil, account: UUID? = nil, cycle: UUID? = nil, state: JobState? = nil, fromStart: Bool = false
    ) async throws -> [Int64] {
        let state = state ?? (id == nil ? .dead : nil)
        if let state, !state.isRetryable {
            throw HooklineError.invalidArgument("only dead and cancelled jobs can be retried")
        }
        let ceiling = try await database.query("SELECT coalesce(max(id), 0) FROM hookline.job_history")[0]
            .decode(Int64.self, at: 0)
        var requeued: [Int64] = []
        var after: Int64 = 0
        while true {
            let batch = try await database.query(
                """
                SELECT id FROM hookline.job_history
                WHERE state IN ('dead', 'cancelled') AND id > \(after) AND id <= \(ceiling)
                  AND (\(id)::bigint IS NULL OR id = \(id))
                  AND (\(account)::uuid IS NULL OR account_id = \(account))
                  AND (\(cycle)::uuid IS NULL OR cycle_id = \(cycle))
                  AND (\(state)::text IS NULL OR state = \(state))
                ORDER BY id LIMIT \(Self.retryBatch)
                """
            ).map { try $0.decode(Int64.self, at: 0) }
            guard let last = batch.last else { break }
            requeued += try await retryBatch(batch, fromStart: fromStart)
            after = last
        }
        if let id, requeued.isEmpty {
            guard let state = try await self.state(of: id, account: account) else {
                throw HooklineError.notFound("no job \(id)")
            }
            throw HooklineError.conflict("job \(id) is \(state.rawValue): only dead and cancelled jobs can be retried")
        }
        return requeued
    }

    /// How many jobs a retry moves in one transaction.
    static let retryBatch = 1_000

    /// One batch of ``retry(id:account:cycle:state:fromStart:)``: these jobs, those of them still dead or
    /// cancelled.
    private func retryBatch(_ ids: [Int64], fromStart: Bool) async throws -> [Int64] {
        try await database.withTransaction { connection -> [Int64] in
            let rows = try connection.query(
                """
                WITH picked AS (
                    DELETE FROM hookline.job_history
                    WHERE id = ANY(\(ids)) AND state IN ('dead', 'cancelled')
                    RETURNING *
                )
                INSERT INTO hookline.jobs
                    (id, account_id, webhook_id, cycle_id, cycle_version, parent_id, state, priority, attempt,
                     max_attempts, run_at, next_step, step_outputs, headers, content_type, body, idempotency_key,
                     received_at, last_error, errors)
                OVERRIDING SYSTEM VALUE
                SELECT p.id, p.account_id, p.webhook_id, p.cycle_id, p.cycle_version, p.parent_id,
                       \(unsafe: JobQueue.waitingState(of: "p")),
                       p.priority, 0,
                       p.max_attempts, now(), CASE WHEN \(fromStart) THEN 0 ELSE coalesce(p.next_step, 0) END,
                       CASE WHEN \(fromStart) THEN '{}'::jsonb ELSE p.step_outputs END, p.headers, p.content_type,
                       p.body, p.idempotency_key, p.received_at, p.last_error, p.errors
                FROM picked p
                RETURNING id, state
                """)
            if try rows.contains(where: { try $0.decode(String.self, at: 1) == "available" }) {
                try connection.notify(JobNotifications.channel)
            }
            return try rows.map { try $0.decode(Int64.self, at: 0) }
        }
    }

    /// Cancels a job that is waiting (`available` or `held`): it moves to history as `cancelled`. A running
    /// job is not cancelled under its worker's feet.
    public func cancel(_ id: Int64, account: UUID? = nil) async throws {
        let moved = try await database.query(
            """
            SELECT hookline.move_to_history(
                ARRAY(SELECT id FROM hookline.jobs WHERE id = \(id) AND state IN ('available', 'held')
                      AND (\(account)::uuid IS NULL OR account_id = \(account)) FOR UPDATE),
                'cancelled', 'cancelled')
            """)
        if moved.count == 0 {
            guard let state = try await state(of: id, account: account) else {
                throw HooklineError.notFound("no job \(id)")
            }
            throw HooklineError.conflict("job \(id) is \(state.rawValue): only available or held jobs can be cancelled")
        }
    }

    /// Jobs by state, hot table and history together; with `finishedSince`, history only from then on (its
    /// partition key: the older partitions are not read).
    public func stats(account: UUID? = nil, finishedSince: Date? = nil) async throws -> [JobState: Int] {
        let rows = try await database.query(
            """
            SELECT state, count(*) FROM (
                SELECT state, account_id FROM hookline.jobs
                UNION ALL SELECT state, account_id FROM hookline.job_history
                WHERE finished_at >= coalesce(\(finishedSince)::timestamptz, '-infinity')
            ) j WHERE \(account)::uuid IS NULL OR account_id = \(account)
            GROUP BY state
            """)
        var counts = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })
        for row in rows {
            let (state, count) = try row.decode((JobState, Int).self)
            counts[state] = count
        }
        return counts
    }

    static func summary(_ row: PostgresRow) throws -> JobSummary {
        let (id, account, webhook, cycle, state, attempt, maxAttempts, at, lastError) = try row.decode(
            (Int64, UUID, UUID?, UUID?, JobState, Int, Int, Date, String?).self)
        return JobSummary(
            id: id, accountID: account, webhookID: webhook, cycleID: cycle, state: state, attempt: attempt,
            maxAttempts: maxAttempts, at: at, lastError: lastError)
    }

    /// Where a job stands now, hot table or history; nil when no job has this id (in `account`, when given).
    public func state(of id: Int64, account: UUID? = nil) async throws -> JobState? {
        try await summary(id, account: account)?.state
    }

    /// One job's summary, hot table or history; nil when no job has this id (in `account`, when given).
    public func summary(_ id: Int64, account: UUID? = nil) async throws -> JobSummary? {
        try await database.query(
            """
            SELECT id, account_id, webhook_id, cycle_id, state, attempt, max_attempts, run_at, last_error
            FROM hookline.jobs WHERE id = \(id) AND (\(account)::uuid IS NULL OR account_id = \(account))
            UNION ALL
            SELECT id, account_id, webhook_id, cycle_id, state, attempt, max_attempts, finished_at, last_error
            FROM hookline.job_history WHERE id = \(id) AND (\(account)::uuid IS NULL OR account_id = \(account))
            LIMIT 1
            """
        ).first.map(Self.summary)
    }

    /// How long the oldest available job has waited past its run time, in seconds; nil when none waits.
    public func oldestWaitSeconds(account: UUID? = nil) async throws -> Double? {
        try await database.query(
            """
            SELECT extract(epoch FROM now() - min(run_at))::float8 FROM hookline.jobs
            WHERE state = 'available' AND run_at <= now() AND (\(account)::uuid IS NULL OR account_id = \(account))
            """
        ).first?.decode(Double?.self, at: 0)
    }
}
