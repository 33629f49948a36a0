import Foundation
import Hookline
import Postgres
import Synchronization

/// Gathers concurrent deliveries into one INSERT statement and one commit per batch, so that a busy ingress
/// pays for one commit per batch rather than per delivery.
///
/// ``GroupCommit`` decides when a batch goes: a delivery that finds no batch committing goes at once, so that
/// an idle ingress adds no wait. While a batch commits, arrivals gather: they go when `maxBatch` are waiting,
/// when they add up to `maxBatchBytes`, when `window` has passed since the first of them arrived, or as soon
/// as nothing is committing any more, whichever comes first. Each caller's `enqueue` returns only after its
/// batch has committed: the caller answers 2xx only then, so an accepted delivery is never lost.
///
/// A batch holds at most `maxBatch` deliveries and, past its first, at most `maxBatchBytes` of them, far below
/// the 1 GiB that one protocol message can carry. One delivery never fails the others: when a batch fails for
/// a reason other than the connection (a value the server refuses, say), its deliveries are tried again one at
/// a time, so only the faulty one fails.
final class BatchingEnqueuer: Sendable {
    private struct Waiting {
        var delivery: Delivery
        var continuation: CheckedContinuation<EnqueueOutcome, any Error>
    }

    private let database: PostgresClient
    private let metrics: IngressMetrics
    private let batches: Mutex<GroupCommit<Waiting>>

    init(
        database: PostgresClient, maxBatch: Int = 128, maxBatchBytes: Int = 64 << 20,
        window: Duration = .milliseconds(2),
        metrics: IngressMetrics
    ) {
        self.database = database
        self.metrics = metrics
        self.batches = Mutex(GroupCommit(maxBatch: maxBatch, maxBatchBytes: maxBatchBytes, window: window))
    }

    /// Stores a delivery as a job (or finds the job of its earlier copy) and returns once that is committed.
    /// - Throws: ``PostgresError`` when the batch could not be committed.
    func enqueue(_ delivery: Delivery) async throws -> EnqueueOutcome {
        try await withCheckedThrowingContinuation { continuation in
            let waiting = Waiting(delivery: delivery, continuation: continuation)
            perform(batches.withLock { $0.arrived(waiting, bytes: delivery.size) })
        }
    }

    /// Carries out what the batching decided; each batch reports when it is done, committed or not.
    private func perform(_ action: GroupCommit<Waiting>.Action) {
        switch action {
        case .none:
            break
        case .startTimer(let window):
            Task {
                try? await Task.sleep(for: window)
                perform(batches.withLock { $0.windowElapsed() })
            }
        case .commit(let batch):
            Task {
                await commit(batch)
                perform(batches.withLock { $0.finished() })
            }
        }
    }

    /// Commits a batch and resumes each of its callers exactly once.
    private func commit(_ batch: [Waiting]) async {
        let deliveries = batch.map(\.delivery)
        let clock = ContinuousClock()
        let start = clock.now
        let rows: PostgresResult
        do {
            rows = try await statement(deliveries)
        } catch {
            metrics.recordFailedBatch()
            guard batch.count > 1, Self.mayBeOneDeliverysFault(error) else {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
                return
            }
            for waiting in batch {
                do {
                    let alone = [waiting.delivery]
                    waiting.continuation.resume(returning: try await outcomes(of: try await statement(alone), alone)[0])
                } catch {
                    waiting.continuation.resume(throwing: error)
                }
            }
            return
        }
        metrics.recordBatch(size: batch.count, commit: start.duration(to: clock.now))
        do {
            let outcomes = try await outcomes(of: rows, deliveries)
            for (waiting, outcome) in zip(batch, outcomes) { waiting.continuation.resume(returning: outcome) }
        } catch {
            // Committed, but a repeat's first job could not be read back: never stored twice by a retry here.
            for waiting in batch { waiting.continuation.resume(throwing: error) }
        }
    }

    /// Whether a failed batch is worth trying again delivery by delivery: not when the connection or the
    /// server is the trouble (a lost connection, a shutdown, no resources, a cancelled statement), which
    /// would only fail each delivery in turn, more slowly.
    static func mayBeOneDeliverysFault(_ error: any Error) -> Bool {
        guard let error = error as? PostgresError, error.kind == .query else { return false }
        guard let code = error.code?.rawValue else { return true }
        return !["08", "53", "57", "58"].contains(where: code.hasPrefix)
    }

    /// Whether a delivery that failed alone failed on its own data (a data exception, a value over one of
    /// the server's limits): answering 5xx would only have the sender retry it for ever.
    static func isUnstorable(_ error: PostgresError) -> Bool {
        guard error.kind == .query, let code = error.code?.rawValue else { return false }
        return code.hasPrefix("22") || code.hasPrefix("54")
    }

    /// The batch statement: new job rows, idempotency keys claimed, duplicates resolved to their first job,
    /// and one NOTIFY when anything became available, all in one statement and one commit.
    ///
    /// The cycles' rows are read `FOR SHARE`: a batch and a cycle's activation or stop (which updates that
    /// row, then moves the cycle's jobs between `held` and `available`) exclude each other, so a batch that
    /// commits while its cycle is activated cannot leave jobs `held` on an active cycle (or `available` on a
    /// stopped one).
    private func statement(_ deliveries: [Delivery]) async throws -> PostgresResult {
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
            ),
            woken AS (
                SELECT pg_notify(\(JobNotifications.channel), floor(random() * 1000000000)::bigint::text)
                FROM inserted WHERE state = 'available' LIMIT 1
            )
            SELECT n.ord, n.job_id, x.id IS NOT NULL AS inserted,
                   coalesce(k.job_id, e.job_id) AS first_job_id,
                   (SELECT count(*) FROM woken) AS notified
            FROM numbered n
            LEFT JOIN inserted x ON x.id = n.job_id
            LEFT JOIN claimed k ON k.webhook_id = n.webhook_id AND k.key = n.key
            LEFT JOIN hookline.idempotency_keys e ON e.webhook_id = n.webhook_id AND e.key = n.key
            ORDER BY n.ord
            """
        return try await database.query(.prepared(query))
    }

    /// What the committed batch statement's rows say of each delivery; a repeat whose key another instance's
    /// batch claimed after this statement's snapshot is looked up once more.
    private func outcomes(of rows: PostgresResult, _ deliveries: [Delivery]) async throws -> [EnqueueOutcome] {
        var outcomes: [EnqueueOutcome?] = []
        var unresolved: [Int] = []
        for (index, row) in rows.enumerated() {
            let (_, jobID, inserted, firstJobID) = try row.decode((Int64, Int64, Bool, Int64?).self)
            if inserted {
                outcomes.append(.accepted(jobID: jobID))
            } else if let firstJobID {
                outcomes.append(.duplicate(jobID: firstJobID))
            } else {
                // The key was claimed by another instance's batch that committed after this statement's
                // snapshot was taken: it is visible now.
                outcomes.append(nil)
                unresolved.append(index)
            }
        }
        for index in unresolved {
            let delivery = deliveries[index]
            let rows = try await database.query(
                """
                SELECT job_id FROM hookline.idempotency_keys
                WHERE webhook_id = \(delivery.webhookID) AND key = \(delivery.idempotencyKey)
                """)
            guard let row = rows.first else {
                throw PostgresError(kind: .query, message: "a delivery was neither stored nor found as a repeat")
            }
            outcomes[index] = .duplicate(jobID: try row.decode(Int64.self, at: 0))
        }
        return outcomes.map { $0! }
    }
}
