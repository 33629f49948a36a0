import Postgres

extension JobQueue {
    /// Queues jobs as `available` now, in one statement, and wakes the workers; returns their ids in order.
    @discardableResult
    public func insert(_ jobs: [NewJob]) async throws -> [Int64] {
        guard !jobs.isEmpty else { return [] }
        return try await database.withTransaction { connection in
            let rows = try connection.query(
                """
                INSERT INTO hookline.jobs (account_id, cycle_id, cycle_version, priority, max_attempts, body)
                SELECT * FROM unnest(\(jobs.map(\.accountID))::uuid[], \(jobs.map(\.cycleID))::uuid[],
                                     \(jobs.map(\.cycleVersion))::integer[], \(jobs.map(\.priority))::smallint[],
                                     \(jobs.map(\.maxAttempts))::integer[], \(jobs.map(\.body))::bytea[])
                RETURNING id
                """)
            try connection.notify(JobNotifications.channel)
            // Ids come from the sequence in the rows' order: sorted, they are in the order of `jobs`.
            return try rows.map { try $0.decode(Int64.self, at: 0) }.sorted()
        }
    }
}
