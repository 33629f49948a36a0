import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

@Suite("Operators' job commands: list, retry, cancel, stats, and the views")
struct JobStoreTests {
    func insertJobs(_ database: MigratedDatabase, account: UUID, count: Int) async throws -> [Int64] {
        try await JobQueue(database: database.client).insert(
            (1...count).map { NewJob(accountID: account, maxAttempts: 1, body: Data("job \($0)".utf8)) })
    }

    @Test func deadJobsAreRetriedByIdOrInBulkWithTheirErrorHistoryKept() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount()
            let other = try await database.makeAccount()
            let ids = try await insertJobs(database, account: account.id, count: 3)
            let otherIDs = try await insertJobs(database, account: other.id, count: 1)
            let queue = JobQueue(database: database.client)
            let store = JobStore(database: database.client)
            for job in try await queue.claim(limit: 10, worker: "w", leaseSeconds: 30) {
                #expect(try await queue.fail(job.id, worker: "w", error: "boom") == .dead)
            }
            #expect(try await store.stats(account: account.id)[.dead] == 3)
            #expect(try await store.list(state: .dead).count == 4)
            let dead = try await database.client.query("SELECT count(*) FROM hookline.dead_jobs")
            #expect(try dead[0].decode(Int.self, at: 0) == 4, "the dead_jobs view")

            #expect(try await store.retry(id: ids[0]) == [ids[0]])
            let row = try await database.client.query(
                "SELECT state, attempt, jsonb_array_length(errors) FROM hookline.jobs WHERE id = \(ids[0])")[0]
            #expect(try row.decode((String, Int, Int).self) == ("available", 0, 1))

            let bulk = try await store.retry(account: account.id)
            #expect(Set(bulk) == Set(ids[1...]))
            #expect(try await store.stats(account: other.id)[.dead] == 1, "other accounts are left alone")
            #expect(try await store.stats()[.dead] == 1)
            await #expect(throws: HooklineError.self) { try await store.retry(id: otherIDs[0] + 1000) }
        }
    }

    /// A retried job of a stopped cycle waits as `held`, as a new delivery to it would, and goes ahead when the
    /// cycle is activated.
    @Test func aRetriedJobOfAStoppedCycleIsHeldUntilTheCycleRuns() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount()
            let cycles = CycleStore(database: database.client)
            let cycle = try await cycles.create(
                account: account.id,
                definition: Array(
                    #"{"name": "parked", "steps": [{"id": "a", "type": "map", "fields": {"n": "/n"}}]}"#.utf8))
            try await cycles.setActive(cycle.id, false)
            let ids = try await JobQueue(database: database.client).insert([
                NewJob(accountID: account.id, cycleID: cycle.id, cycleVersion: 1, maxAttempts: 1)
            ])
            let store = JobStore(database: database.client)
            try await database.client.query("UPDATE hookline.jobs SET state = 'held' WHERE id = \(ids[0])")
            try await store.cancel(ids[0])
            #expect(try await store.retry(id: ids[0], state: .cancelled) == ids)
            func state() async throws -> String {
                try await database.client.query("SELECT state FROM hookline.jobs WHERE id = \(ids[0])")[0]
                    .decode(String.self, at: 0)
            }
            #expect(try await state() == "held")
            try await cycles.setActive(cycle.id, true)
            #expect(try await state() == "available")
        }
    }

    @Test func waitingJobsCanBeCancelledAndRunningOnesCannot() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount()
            let ids = try await insertJobs(database, account: account.id, count: 2)
            let queue = JobQueue(database: database.client)
            let store = JobStore(database: database.client)
            _ = try await queue.claim(limit: 1, worker: "w", leaseSeconds: 30)
            let running = ids[0]
            await #expect(throws: HooklineError.self) { try await store.cancel(running) }
            try await store.cancel(ids[1])
            let stats = try await store.stats(account: account.id)
            #expect(stats[.cancelled] == 1)
            #expect(stats[.running] == 1)
            #expect(try await store.retry(id: ids[1], state: .cancelled) == [ids[1]])
            let depth = try await database.client.query(
                "SELECT state, jobs FROM hookline.queue_depth WHERE account_id = \(account.id) ORDER BY state")
            let rows = try depth.map { try $0.decode((String, Int).self) }
            #expect(rows.map(\.0) == ["available", "running"])
            #expect(rows.map(\.1) == [1, 1])
        }
    }

    /// A state the code does not know (a newer migration's, say) is an error where it is read, not a string
    /// that matches nothing further on.
    @Test func aStateTheCodeDoesNotKnowIsADecodingError() async throws {
        try await MigratedDatabase.with { database in
            let rows = try await database.client.query("SELECT 'done'::text, 'dead'::text")
            #expect(try rows[0].decode(JobState.self, at: 1) == .dead)
            #expect(throws: PostgresError.self) { try rows[0].decode(JobState.self, at: 0) }
        }
    }
}
