import Hookline
import Postgres
import Synchronization

/// Gathers concurrent deliveries into one INSERT statement and one commit per batch, so that a busy ingress
/// pays for one commit per batch rather than per delivery, and wakes the workers after a batch that made jobs
/// available (``JobAvailabilityNotifier``).
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
        /// Called once, when the delivery's batch has committed or failed.
        var done: @Sendable (Result<EnqueueOutcome, any Error>) -> Void
    }

    private let queue: JobQueue
    private let notifier: JobAvailabilityNotifier
    private let metrics: IngressMetrics
    private let batches: Mutex<GroupCommit<Waiting>>

    init(
        database: PostgresClient, maxBatch: Int = 128, maxBatchBytes: Int = 64 << 20,
        window: Duration = .milliseconds(2),
        metrics: IngressMetrics
    ) {
        self.queue = JobQueue(database: database)
        self.notifier = JobAvailabilityNotifier(database: database)
        self.metrics = metrics
        self.batches = Mutex(GroupCommit(maxBatch: maxBatch, maxBatchBytes: maxBatchBytes, window: window))
    }

    /// Stores a delivery as a job (or finds the job of its earlier copy) and returns once that is committed.
    /// - Throws: ``PostgresError`` when the batch could not be committed.
    func enqueue(_ delivery: Delivery) async throws -> EnqueueOutcome {
        try await withCheckedThrowingContinuation { continuation in
            submit(delivery) { continuation.resume(with: $0) }
        }
    }

    /// Stores a delivery as ``enqueue(_:)`` does, and calls `done` once its batch has committed or failed
    /// (from the task that committed it): for a caller that has no task of its own to wait in.
    func submit(_ delivery: Delivery, done: @escaping @Sendable (Result<EnqueueOutcome, any Error>) -> Void) {
        perform(batches.withLock { $0.arrived(Waiting(delivery: delivery, done: done), bytes: delivery.size) })
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
        let stored: EnqueuedBatch
        do {
            stored = try await queue.enqueue(deliveries)
        } catch {
            metrics.recordFailedBatch()
            guard batch.count > 1, JobQueue.mayBeOneDeliverysFault(error) else {
                for waiting in batch { waiting.done(.failure(error)) }
                return
            }
            for waiting in batch {
                do {
                    let alone = try await queue.enqueue([waiting.delivery])
                    if alone.madeJobsAvailable { notifier.jobsBecameAvailable() }
                    waiting.done(.success(try await resolve(alone.outcomes[0], waiting.delivery)))
                } catch {
                    waiting.done(.failure(error))
                }
            }
            return
        }
        metrics.recordBatch(size: batch.count, commit: start.duration(to: clock.now))
        if stored.madeJobsAvailable { notifier.jobsBecameAvailable() }
        for (waiting, outcome) in zip(batch, stored.outcomes) {
            do {
                waiting.done(.success(try await resolve(outcome, waiting.delivery)))
            } catch {
                // Committed, but a repeat's first job could not be read back: never stored twice by a retry here.
                waiting.done(.failure(error))
            }
        }
    }

    /// A committed delivery's outcome; a repeat whose key another instance's batch claimed after this batch's
    /// snapshot was taken is looked up once more (that batch has committed by now).
    private func resolve(_ outcome: EnqueueOutcome?, _ delivery: Delivery) async throws -> EnqueueOutcome {
        if let outcome { return outcome }
        guard let first = try await queue.firstJob(webhook: delivery.webhookID, key: delivery.idempotencyKey) else {
            throw PostgresError(kind: .query, message: "a delivery was neither stored nor found as a repeat")
        }
        return .duplicate(jobID: first)
    }
}
