import Foundation
import Postgres
import TestSupport
import Testing

extension CycleFixture {
    /// Runs job `id` with a worker while `hold` (a statement in a transaction of its own) makes one of the
    /// worker's writes wait: once `ready` says the job has got that far and `waiting` counts one backend
    /// waiting, `cut` terminates the waiting backends (and counts them), the hold is released, and the job must
    /// finish within `eventually`'s time. Returns how many connections were cut.
    func finishCuttingTheWaitingWrite(
        _ id: Int64, blocker: PostgresClient, hold: PostgresQuery, waiting: PostgresQuery, cut: PostgresQuery,
        ready: @escaping @Sendable () -> Bool
    ) async throws -> Int {
        let lock = try await HeldTransaction(on: blocker, hold)
        let worker = startWorker()
        let terminated: Int
        do {
            try await eventually { try await blocker.query(waiting)[0].decode(Int.self, at: 0) == 1 && ready() }
            terminated = try await blocker.query(cut)[0].decode(Int.self, at: 0)
            try await lock.release()
            try await eventually { try await finished([id])[id] != nil }
        } catch {
            try? await lock.release()
            try? await worker.stop()
            throw error
        }
        try await worker.stop()
        return terminated
    }
}
