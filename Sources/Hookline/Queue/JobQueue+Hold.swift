import Foundation
import Postgres

extension JobQueue {
    /// Moves a cycle's waiting jobs to match its row, in one transaction: `available` ones become `held` while
    /// the cycle is stopped, `held` ones `available` (at once, or when their backoff or delay ends; the workers
    /// are woken) while it is active.
    ///
    /// The row is read `FOR SHARE`, so a change of it waits for this move to commit, and its own move, which
    /// follows, reads the new state: whatever order concurrent stops and activations run in, the last move
    /// matches the row's final state.
    /// - Throws: ``HooklineError/notFound(_:)`` for no such cycle.
    public func followCycleState(_ cycle: UUID) async throws {
        try await database.withTransaction { connection in
            let rows = try connection.query("SELECT active FROM hookline.cycles WHERE id = \(cycle) FOR SHARE")
            guard let row = rows.first else { throw HooklineError.notFound("no cycle \(cycle.lowercased)") }
            if try !row.decode(Bool.self, at: 0) {
                try connection.query(
                    "UPDATE hookline.jobs SET state = 'held' WHERE cycle_id = \(cycle) AND state = 'available'")
            } else {
                let released = try connection.query(
                    """
                    UPDATE hookline.jobs SET state = 'available', run_at = greatest(run_at, now())
                    WHERE cycle_id = \(cycle) AND state = 'held'
                    """)
                if released.affectedRows > 0 { try connection.notify(JobNotifications.channel) }
            }
        }
    }
}
