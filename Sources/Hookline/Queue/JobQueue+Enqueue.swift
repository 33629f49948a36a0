import Foundation
import Postgres

extension JobQueue {
    /// Stores deliveries as jobs in one statement and one commit: new job rows, idempotency keys claimed,
    /// repeats resolved to their first job.
    ///
    /// It sends no NOTIFY: PostgreSQL serializes the commits of all transactions that notify, so the caller
    /// wakes the workers afterwards when ``EnqueuedBatch/madeJobsAvailable`` (``JobAvailabilityNotifier``).
    ///
    /// The cycles' rows are read `FOR SHARE`: a batch and a cycle's activation or stop (which updates that
    /// row, then moves the cycle's jobs between `held` and `available`) exclude each other, so a batch that
    /// commits while its cycle is activated cannot leave jobs `held` on an active cycle (or `available` on a
    /// stopped one).
    ///
    /// - Returns: once committed, each delivery's outcome, in order (nil for a repeat whose key another
    ///   instance's batch claimed after this statement's snapshot was taken: ``firstJob(webhook:key:)`` finds
    ///   it now), and whether a job became available to workers.
    /// - Throws: ``PostgresError`` when the statement failed: nothing was stored.
    public func enqueue(_ deliveries: [Delivery]) async throws -> EnqueuedBatch {
        deliveries.contains { $0.idempotencyKey != nil }
            ? try await enqueueWithKeys(deliveries) : try await enqueueWithoutKeys(deliveries)
    }

    /// A batch in which no delivery has an idempotency key: the jobs alone, none of the keys' work (claiming
    /// them, finding repeats), which cost PostgreSQL 9-19 % more CPU per row in batches of 24 (pgbench, 2 and 8
    /// clients).
    private func enqueueWithoutKeys(_ deliveries: [Delivery]) async throws -> EnqueuedBatch {
        let query: PostgresQuery = """
            WITH numbered AS (
                SELECT i.*, nextval('hookline.jobs_id_seq') AS job_id
                FROM unnest(\(deliveries.map(\.webhookID))::uuid[], \(deliveries.map(\.accountID))::uuid[],
                            \(deliveries.map(\.cycleID))::uuid[], \(deliveries.map(\.headers))::jsonb[],
                            \(deliveries.map(\.contentType))::text[], \(deliveries.map(\.body))::bytea[],
                            \(deliveries.map(\.receivedAt))::timestamptz[])
                    WITH ORDINALITY AS i(webhook_id, account_id, cycle_id, headers, content_type, body, received_at, ord)
            ),
            inserted AS (
                INSERT INTO hookline.jobs (id, account_id, webhook_id, cycle_id, cycle_version, state, max_attempts,
                                           headers, content_type, body, received_at)
                OVERRIDING SYSTEM VALUE
                SELECT n.job_id, n.account_id, n.webhook_id, n.cycle_id, c.version,
                       CASE WHEN c.active THEN 'available' ELSE 'held' END,
                       coalesce((c.definition #>> '{retry,max_attempts}')::int, 6),
                       n.headers, n.content_type, n.body, n.received_at
                FROM numbered n JOIN hookline.cycles c ON c.id = n.cycle_id
                FOR SHARE OF c
                RETURNING id, state
            )
            SELECT n.job_id, x.id IS NOT NULL, x.state IS NOT DISTINCT FROM 'available'
            FROM numbered n LEFT JOIN inserted x ON x.id = n.job_id
            ORDER BY n.ord
            """
        var madeJobsAvailable = false
        let outcomes = try await database.query(.prepared(query)).map { row -> EnqueueOutcome? in
            let (jobID, inserted, available) = try row.decode((Int64, Bool, Bool).self)
            madeJobsAvailable = madeJobsAvailable || available
            return inserted ? .accepted(jobID: jobID) : nil
        }
        return EnqueuedBatch(outcomes: outcomes, madeJobsAvailable: madeJobsAvailable)
    }

    private func enqueueWithKeys(_ deliveries: [Delivery]) async throws -> EnqueuedBatch {
        let query: PostgresQuery = """
            WITH input AS (
                SELECT * FROM unnest(\(deliveries.map(\.webhookID))::uuid[], \(deliveries.map(\.accountID))::uuid[],
                                     \(deliveries.map(\.cycleID))::uuid[], \(deliveries.map(\.headers))::jsonb[],
                                     \(deliveries.map(\.contentType))::text[], \(deliveries.map(\.body))::bytea[],
                                     \(deliveries.map(\.idempotencyKey))::text[], \(deliveries.map(\.receivedAt))::timestamptz[])
                    WITH ORDINALITY AS i(webhook_id, account_id, cycle_id, headers, content_type, body, key, received_at, ord)
            ),
            numbered AS (
                SELECT i.*, nextval('hookline.jobs_id_seq') AS job_id FROM input i
            ),
            claimed AS (
                INSERT INTO hookline.idempotency_keys (webhook_id, key, job_id)
                SELECT webhook_id, key, job_id FROM numbered WHERE key IS NOT NULL
                ON CONFLICT DO NOTHING
                RETURNING webhook_id, key, job_id
            ),
            inserted AS (
                INSERT INTO hookline.jobs (id, account_id, webhook_id, cycle_id, cycle_version, state, max_attempts,
                                           headers, content_type, body, idempotency_key, received_at)
                OVERRIDING SYSTEM VALUE
                SELECT n.job_id, n.account_id, n.webhook_id, n.cycle_id, c.version,
                       CASE WHEN c.active THEN 'available' ELSE 'held' END,
                       coalesce((c.definition #>> '{retry,max_attempts}')::int, 6),
                       n.headers, n.content_type, n.body, n.key, n.received_at
                FROM numbered n JOIN hookline.cycles c ON c.id = n.cycle_id
                WHERE n.key IS NULL OR EXISTS (SELECT 1 FROM claimed k WHERE k.job_id = n.job_id)
                FOR SHARE OF c
                RETURNING id, state
            )
            SELECT n.ord, n.job_id, x.id IS NOT NULL AS inserted,
                   coalesce(k.job_id, e.job_id) AS first_job_id,
                   x.state IS NOT DISTINCT FROM 'available' AS available
            FROM numbered n
            LEFT JOIN inserted x ON x.id = n.job_id
            LEFT JOIN claimed k ON k.webhook_id = n.webhook_id AND k.key = n.key
            LEFT JOIN hookline.idempotency_keys e ON e.webhook_id = n.webhook_id AND e.key = n.key
            ORDER BY n.ord
            """
        var madeJobsAvailable = false
        let outcomes = try await database.query(.prepared(query)).map { row -> EnqueueOutcome? in
            let (_, jobID, inserted, firstJobID, available) = try row.decode((Int64, Int64, Bool, Int64?, Bool).self)
            madeJobsAvailable = madeJobsAvailable || available
            if inserted { return .accepted(jobID: jobID) }
            return firstJobID.map { .duplicate(jobID: $0) }
        }
        return EnqueuedBatch(outcomes: outcomes, madeJobsAvailable: madeJobsAvailable)
    }

    /// The job that the first delivery with this idempotency key became.
    public func firstJob(webhook: UUID, key: String?) async throws -> Int64? {
        try await database.query(
            "SELECT job_id FROM hookline.idempotency_keys WHERE webhook_id = \(webhook) AND key = \(key)"
        ).first?.decode(Int64.self, at: 0)
    }

    /// Whether a failed batch is worth trying again item by item (deliveries at the ingress, completions and
    /// claims at the worker): not when the connection or the server is the trouble (a lost connection, a
    /// shutdown, no resources, a cancelled statement), which would only fail each item in turn, more slowly.
    public static func mayBeOneDeliverysFault(_ error: any Error) -> Bool {
        guard let error = error as? PostgresError, error.kind == .query else { return false }
        guard let code = error.code?.rawValue else { return true }
        return !["08", "53", "57", "58"].contains(where: code.hasPrefix)
    }

    /// Whether a delivery that failed alone failed on its own data (a data exception, a value over one of
    /// the server's limits): answering 5xx would only have the sender retry it for ever.
    public static func isUnstorable(_ error: any Error) -> Bool {
        guard let error = error as? PostgresError, error.kind == .query, let code = error.code?.rawValue else {
            return false
        }
        return code.hasPrefix("22") || code.hasPrefix("54")
    }
}
