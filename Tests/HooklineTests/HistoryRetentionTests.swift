import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

@Suite("job_history: daily partitions, retention by dropping them, and the other housekeeping")
struct HistoryRetentionTests {
    /// The partitions of job_history, by name.
    func partitions(_ database: MigratedDatabase) async throws -> [String] {
        try await database.client.query(
            """
            SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'hookline.job_history'::regclass ORDER BY 1
            """
        ).map { try $0.decode(String.self, at: 0) }
    }

    func name(daysFromToday days: Int) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let day = calendar.date(byAdding: .day, value: days, to: Date())!
        let parts = calendar.dateComponents([.year, .month, .day], from: day)
        return String(format: "job_history_%04d%02d%02d", parts.year!, parts.month!, parts.day!)
    }

    func insertFinished(_ database: MigratedDatabase, account: UUID, id: Int64, daysAgo: Int) async throws {
        try await database.client.query(
            """
            INSERT INTO hookline.job_history (id, account_id, state, attempt, max_attempts, received_at, finished_at)
            VALUES (\(id), \(account), 'completed', 1, 1, now(), now() - make_interval(days => \(daysAgo)::integer))
            """)
    }

    @Test func migrationCreatesTheComingDaysAndMaintenanceDropsOldDaysOnly() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount()
            #expect(
                try await partitions(database)
                    == ((0...2).map { name(daysFromToday: $0) } + ["job_history_default"]).sorted())

            // Rows 40 days old land in the default partition; giving that day a partition moves them into it.
            try await insertFinished(database, account: account.id, id: 1, daysAgo: 40)
            try await insertFinished(database, account: account.id, id: 2, daysAgo: 40)
            try await insertFinished(database, account: account.id, id: 3, daysAgo: 10)
            try await insertFinished(database, account: account.id, id: 4, daysAgo: 0)
            let created = try await database.client.query(
                "SELECT hookline.create_history_partition(current_date - 40)"
            )[0].decode(String?.self, at: 0)
            #expect(created == name(daysFromToday: -40))
            let where40 = try await database.client.query(
                """
                SELECT DISTINCT c.relname::text FROM hookline.job_history h JOIN pg_class c ON c.oid = h.tableoid
                WHERE h.id IN (1, 2)
                """
            ).map { try $0.decode(String.self, at: 0) }
            #expect(where40 == [name(daysFromToday: -40)])

            // Keeping 31 days: the 40-day-old partition goes, with its rows; the 10-day-old row (in the
            // default partition) and today's stay.
            let queue = JobQueue(database: database.client)
            let actions = try await queue.maintainHistory(keepDays: 31)
            #expect(actions == ["dropped \(name(daysFromToday: -40))"])
            let left = try await database.client.query("SELECT id FROM hookline.job_history ORDER BY id").map {
                try $0.decode(Int64.self, at: 0)
            }
            #expect(left == [3, 4])
            // Keeping 5 days: the 10-day-old row in the default partition is deleted.
            let second = try await queue.maintainHistory(keepDays: 5)
            #expect(second == ["deleted 1 old rows of job_history_default"])
            #expect(try await partitions(database).contains(name(daysFromToday: 0)))
        }
    }

    @Test func oldIdempotencyKeysAndLongExpiredTokensArePruned() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount()
            let client = try await OAuthClientStore(database: database.client).create(
                account: account.id, scope: .webhook)
            try await database.client.query(
                """
                INSERT INTO hookline.idempotency_keys (webhook_id, key, job_id, created_at)
                VALUES (gen_random_uuid(), 'old', 1, now() - interval '40 days'),
                       (gen_random_uuid(), 'new', 2, now())
                """)
            try await database.client.query(
                """
                INSERT INTO hookline.access_tokens
                    (token_hash, client_id, account_id, scope, issued_at, expires_at)
                VALUES (decode('01', 'hex'), \(client.client.id), \(account.id), 'webhook', now() - interval '3 days',
                        now() - interval '2 days'),
                       (decode('02', 'hex'), \(client.client.id), \(account.id), 'webhook', now() - interval '3 days',
                        now() - interval '1 hour')
                """)
            let actions = try await JobQueue(database: database.client).maintainHistory(keepDays: 31)
            #expect(actions == ["deleted 1 idempotency keys", "deleted 1 expired access tokens"])
            #expect(
                try await database.client.query("SELECT key FROM hookline.idempotency_keys").map {
                    try $0.decode(String.self, at: 0)
                } == ["new"])
            #expect(
                try await database.client.query("SELECT count(*) FROM hookline.access_tokens")[0].decode(
                    Int.self, at: 0) == 1)
        }
    }

    /// A job can wait longer than the retention (its cycle stopped, a long backoff or delay): the key that
    /// answers a repeat of its delivery, and the step runs that record what it did, stay while it does.
    @Test func theKeysAndStepRunsOfJobsStillQueuedAreKept() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount()
            let queue = JobQueue(database: database.client)
            let waiting = try await queue.insert([NewJob(accountID: account.id, body: Data("{}".utf8))])[0]
            try await database.client.query(
                """
                INSERT INTO hookline.idempotency_keys (webhook_id, key, job_id, created_at)
                VALUES (gen_random_uuid(), 'waiting', \(waiting), now() - interval '40 days'),
                       (gen_random_uuid(), 'finished', \(waiting + 1000), now() - interval '40 days')
                """)
            try await database.client.query(
                """
                INSERT INTO hookline.step_runs (job_id, step_id, attempt, started_at)
                VALUES (\(waiting), 'call', 1, now() - interval '40 days'),
                       (\(waiting + 1000), 'call', 1, now() - interval '40 days')
                """)
            let actions = try await queue.maintainHistory(keepDays: 31)
            #expect(actions.contains("deleted 1 idempotency keys"))
            #expect(actions.contains("deleted 1 step runs"))
            #expect(
                try await database.client.query("SELECT key FROM hookline.idempotency_keys").map {
                    try $0.decode(String.self, at: 0)
                } == ["waiting"])
            #expect(
                try await database.client.query("SELECT job_id FROM hookline.step_runs").map {
                    try $0.decode(Int64.self, at: 0)
                } == [waiting])
        }
    }

    @Test func oneMaintainerAtATime() async throws {
        try await MigratedDatabase.with { database in
            // While another session holds the maintenance lock, maintenance does nothing and says so.
            let lock = try await HeldTransaction(
                on: database.client, "SELECT pg_advisory_xact_lock(7525356009463313268)")
            try await database.client.query("DROP TABLE hookline.\(unsafe: name(daysFromToday: 1))")
            #expect(try await JobQueue(database: database.client).maintainHistory(keepDays: 31).isEmpty)
            try await lock.release()
            #expect(
                try await JobQueue(database: database.client).maintainHistory(keepDays: 31)
                    == ["created \(name(daysFromToday: 1))"])
        }
    }
}
