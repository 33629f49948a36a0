import Hookline
import Synchronization

/// Finishes successful jobs in batches: while one statement moves finished jobs to history, the jobs that
/// finish meanwhile wait for the next, so a busy worker commits many completions at once (group commit)
/// and an idle one commits each at once.
///
/// ``GroupCommit`` with no bound and no window decides: one statement at a time, and all that waits goes next.
final class CompletionBatcher: Sendable {
    private struct Pending {
        var completion: JobQueue.Completion
        var continuation: CheckedContinuation<Bool, any Error>
    }

    private let queue: JobQueue
    private let worker: String
    private let batches = Mutex(GroupCommit<Pending>())

    init(queue: JobQueue, worker: String) {
        self.queue = queue
        self.worker = worker
    }

    /// Moves the job to history as `completed`; returns whether this worker still held it (and so
    /// finished it), once the statement that did it has committed.
    func complete(_ completion: JobQueue.Completion) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            let pending = Pending(completion: completion, continuation: continuation)
            if case .commit(let batch) = batches.withLock({ $0.arrived(pending) }) {
                Task { await flush(batch) }
            }
        }
    }

    /// Runs the batch's statement, resumes each of its callers exactly once, then the next batch, if any.
    private func flush(_ batch: [Pending]) async {
        var batch = batch
        while true {
            do {
                let held = try await queue.complete(batch.map(\.completion), worker: worker)
                for job in batch { job.continuation.resume(returning: held.contains(job.completion.id)) }
            } catch let error where batch.count > 1 && JobQueue.mayBeOneDeliverysFault(error) {
                // One job's data can fail the statement for every job in it: each alone, so that only that
                // one fails.
                for job in batch {
                    do {
                        let held = try await queue.complete([job.completion], worker: worker)
                        job.continuation.resume(returning: held.contains(job.completion.id))
                    } catch {
                        job.continuation.resume(throwing: error)
                    }
                }
            } catch {
                for job in batch { job.continuation.resume(throwing: error) }
            }
            guard case .commit(let next) = batches.withLock({ $0.finished() }) else { return }
            batch = next
        }
    }
}
