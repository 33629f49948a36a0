import Foundation
import Postgres

extension JobQueue {
    /// Holds a stopped cycle's waiting jobs (`available` becomes `held`), or releases an active cycle's held
    /// jobs (`held` becomes `available` now, and the workers are woken), in one transaction.
    public func holdJobs(_ hold: Bool, ofCycle cycle: UUID) async throws {
        try await database.withTransaction { connection in
            if hold {
                try connection.query(
                    "UPDATE hookline.jobs SET state = 'held' WHERE cycle_id = \(cycle) AND state = 'available'")
            } else {
                let released = try connection.query(
                    """
                    UPDATE hookline.jobs SET state = 'available', run_at = now()
                    WHERE cycle_id = \(cycle) AND state = 'held'
                    """)
                if released.affectedRows > 0 { try connection.notify(JobNotifications.channel) }
            }
        }
    }
}
