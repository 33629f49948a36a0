import Hookline
import Synchronization

/// Finishes successful jobs in batches: while one statement moves finished jobs to history, the jobs that
/// finish meanwhile wait for the next, so a busy worker commits many completions at once (group commit)
/// and an idle one commits each at once.
final class CompletionBatcher: Sendable {
    private struct Pending {
        var completion: JobQueue.Completion
        var continuation: CheckedContinuation<Bool, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var flushing = false
    }

    private let queue: JobQueue
    private let worker: String
    private let state = Mutex(State())

    init(queue: JobQueue, worker: String) {
        self.queue = queue
        self.worker = worker
    }

    /// Moves the job to history as `completed`; returns whether this worker still held it (and so
    /// finished it), once the statement that did it has committed.
    func complete(_ completion: JobQueue.Completion) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            let startFlushing = state.withLock { state -> Bool in
                state.pending.append(Pending(completion: completion, continuation: continuation))
                guard !state.flushing else { return false }
                state.flushing = true
                return true
            }
            if startFlushing { Task { await flush() } }
        }
    }

    private func flush() async {
        while true {
            let batch = state.withLock { state -> [Pending] in
                if state.pending.isEmpty { state.flushing = false }
                defer { state.pending.removeAll(keepingCapacity: true) }
                return state.pending
            }
            if batch.isEmpty { return }
            do {
                let held = try await queue.complete(batch.map(\.completion), worker: worker)
                for job in batch { job.continuation.resume(returning: held.contains(job.completion.id)) }
            } catch {
                for job in batch { job.continuation.resume(throwing: error) }
            }
        }
    }
}
