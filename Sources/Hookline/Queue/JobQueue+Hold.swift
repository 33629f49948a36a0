import Foundation
import Postgres

extension JobQueue {
    /// Jobs moved in one transaction by ``followCycleState(_:batch:)``.
    public static let cycleMoveBatch = 5_000

    /// Moves a cycle's waiting jobs to match its row: `available` ones become `held` while the cycle is stopped,
    /// `held` ones `available` (at once, or when their backoff or delay ends; the workers are woken) while it
    /// is active.
    ///
    /// In transactions of `batch` jobs each, walking the jobs in id order: one UPDATE of a whole backlog (a
    /// million jobs of a broken destination's cycle) outlasted `serve`'s statement timeout, so the API stopped
    /// the cycle's row but not its jobs, which workers went on claiming, and every retry timed out the same way.
    /// Each batch reads the row `FOR SHARE`, so a change of it waits for that batch to commit, and the next
    /// batch (and the changing call's own move) reads the new state: whatever order concurrent stops and
    /// activations run in, the jobs end as the row does.
    /// - Throws: ``HooklineError/notFound(_:)`` for no such cycle.
    public func followCycleState(_ cycle: UUID, batch: Int = cycleMoveBatch) async throws {
        var after: Int64 = 0
        while let last = try await moveCycleJobs(cycle, after: after, limit: batch) { after = last }
    }

    /// Moves up to `limit` of the cycle's waiting jobs with ids above `after`; the last id looked at, nil when
    /// none was left.
    private func moveCycleJobs(_ cycle: UUID, after: Int64, limit: Int) async throws -> Int64? {
        try await database.withTransaction { connection in
            let rows = try connection.query("SELECT active FROM hookline.cycles WHERE id = \(cycle) FOR SHARE")
            guard let row = rows.first else { throw HooklineError.notFound("no cycle \(cycle.lowercased)") }
            let active = try row.decode(Bool.self, at: 0)
            let from: JobState = active ? .held : .available
            // The batch's ids first, by the primary key from `after` on: no index leads with cycle_id (the
            // ingress would pay for it on every insert), and a scan from the start for every batch would read
            // the jobs already moved again and again.
            let ids = try connection.query(
                """
                SELECT id FROM hookline.jobs WHERE id > \(after) AND cycle_id = \(cycle) AND state = \(from)
                ORDER BY id LIMIT \(limit)
                """
            ).map { try $0.decode(Int64.self, at: 0) }
            guard let last = ids.last else { return nil }
            if !active {
                try connection.query(
                    "UPDATE hookline.jobs SET state = 'held' WHERE id = ANY(\(ids)) AND state = 'available'")
            } else {
                let released = try connection.query(
                    """
                    UPDATE hookline.jobs SET state = 'available', run_at = greatest(run_at, now())
                    WHERE id = ANY(\(ids)) AND state = 'held'
                    """)
                if released.affectedRows > 0 { try connection.notify(JobNotifications.channel) }
            }
            return last
        }
    }
}
