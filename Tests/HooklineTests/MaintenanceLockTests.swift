import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

@Suite("History maintenance: partition locks that never hold completions up")
struct MaintenanceLockTests {
    @Test func completionsGoOnWhileMaintenanceWaitsForAPartitionLock() async throws {
        try await MigratedDatabase.with(maxConnections: 6) { database in
            let account = try await database.makeAccount()
            let client = database.client
            // Maintenance has a partition to create (it needs job_history to itself for that) and one to drop.
            let tomorrow = try await client.query(
                "SELECT 'job_history_' || to_char((now() AT TIME ZONE 'UTC')::date + 1, 'YYYYMMDD')"
            )[0].decode(String.self, at: 0)
            try await client.query("DROP TABLE hookline.\(unsafe: tomorrow)")
            let old = try await client.query("SELECT hookline.create_history_partition(current_date - 40)")[0]
                .decode(String.self, at: 0)
            let queue = JobQueue(database: client)
            let ids = try await queue.insert(Array(repeating: NewJob(accountID: account.id), count: 3))
            #expect(try await queue.claim(limit: 3, worker: "w", leaseSeconds: 60).count == 3)

            // An operator's long read of the history holds its lock while maintenance wants the table.
            let reader = PostgresClient(connectionString: database.url, maxConnections: 1)
            defer { reader.close() }
            let read = try await HeldTransaction(on: reader, "SELECT count(*) FROM hookline.job_history")
            let maintenance = Task { try await queue.maintainHistory(keepDays: 31) }
            do {
                // Maintenance is waiting for a lock on the history…
                try await eventually(within: .seconds(10)) {
                    try await client.query(
                        """
                        SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                        WHERE NOT l.granted AND c.relname LIKE 'job_history%'
                        """
                    )[0].decode(Int.self, at: 0) > 0
                }
                // …and completions, which write into it, still go through, one after the other.
                for id in ids {
                    let finished = try await Self.within(.seconds(5)) { try await queue.complete([id], worker: "w") }
                    #expect(finished == [id], "a completion waited for the maintenance behind a long read")
                }
            } catch {
                try? await read.release()
                throw error
            }
            try await read.release()
            let actions = try await maintenance.value
            #expect(actions.contains("created \(tomorrow)"), "\(actions)")
            #expect(actions.contains("dropped \(old)"), "\(actions)")
            let history = try await client.query("SELECT count(*) FROM hookline.job_history WHERE id = ANY(\(ids))")
            #expect(try history[0].decode(Int.self, at: 0) == 3)
        }
    }

    @Test func oldStepRunsAreDeletedThroughThePrimaryKeyNotByAScan() async throws {
        try await MigratedDatabase.with { database in
            // 20,000 step runs two minutes apart (about 28 days), in id order but for two: a young one with an
            // old id, and an old one among the young.
            try await database.client.query(
                """
                INSERT INTO hookline.step_runs (job_id, step_id, attempt, started_at)
                SELECT n, 's', 1, now() - (20000 - n) * interval '2 minutes' FROM generate_series(1, 20000) n
                """)
            let (young, stray) = try await database.client.query(
                "SELECT min(id) + 4, max(id) - 10 FROM hookline.step_runs"
            )[0].decode((Int64, Int64).self)
            try await database.client.query("UPDATE hookline.step_runs SET started_at = now() WHERE id = \(young)")
            try await database.client.query(
                "UPDATE hookline.step_runs SET started_at = now() - interval '60 days' WHERE id = \(stray)")
            try await database.client.query("ANALYZE hookline.step_runs")
            let (actions, scans) = try await database.client.withTransaction { connection in
                let actions = try connection.query("SELECT hookline.maintain_history(20)").map {
                    try $0.decode(String.self, at: 0)
                }
                let scans = try connection.query(
                    "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'step_runs'"
                )[0].decode((Int, Int).self)
                return (actions, scans)
            }
            #expect(scans.0 == 0, "no sequential scan of step_runs (\(scans.1) index scans)")
            #expect(scans.1 > 0)
            let deleted = try #require(actions.first { $0.hasSuffix("step runs") })
            let cutoff = "((now() AT TIME ZONE 'UTC')::date - 20)::timestamp AT TIME ZONE 'UTC'"
            let (left, oldLeft, youngKept) = try await database.client.query(
                """
                SELECT count(*)::int, count(*) FILTER (WHERE started_at < \(unsafe: cutoff))::int,
                       bool_or(id = \(young))
                FROM hookline.step_runs
                """
            )[0].decode((Int, Int, Bool).self)
            #expect(deleted == "deleted \(20000 - left) step runs")
            #expect(left < 16_000, "about 5,000 old runs are gone")
            #expect(youngKept, "a young run is kept whatever its id")
            #expect(oldLeft == 1, "only the stray old run among young ones waits for a later run")
        }
    }

    /// `body`'s value, or nil if it has not returned within `limit` (it is then cancelled).
    static func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T)
        async throws -> T?
    {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }
}
