import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

@Suite("The job queue's statements")
struct JobQueueTests {
    /// Inserts `count` available jobs for a new account; returns their ids in insertion order.
    func insertJobs(_ database: MigratedDatabase, count: Int, priority: Int16 = 0, maxAttempts: Int = 6) async throws
        -> [Int64]
    {
        let account = try await database.makeAccount()
        return try await JobQueue(database: database.client).insert(
            (1...count).map {
                NewJob(
                    accountID: account.id, priority: priority, maxAttempts: maxAttempts, body: Data("job \($0)".utf8))
            })
    }

    /// Holds the job's row lock (`FOR UPDATE`, as a completion in flight does) in another transaction for
    /// `seconds`; returns once it is held. Await the task to know it was released.
    func holdRowLock(_ database: MigratedDatabase, _ id: Int64, seconds: Double) async throws -> Task<Void, any Error> {
        let locker = Task {
            try await database.client.withTransaction { connection in
                try connection.query("SELECT 1 FROM hookline.jobs WHERE id = \(id) FOR UPDATE")
                Thread.sleep(forTimeInterval: seconds)
            }
        }
        try await eventually(within: .seconds(5)) {
            try await database.client.query(
                """
                SELECT count(*) FROM pg_locks
                WHERE relation = 'hookline.jobs'::regclass AND mode = 'RowShareLock' AND granted
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND pid <> pg_backend_pid()
                """
            )[0].decode(Int.self, at: 0) > 0
        }
        return locker
    }

    func state(_ database: MigratedDatabase, _ id: Int64) async throws -> String? {
        let rows = try await database.client.query(
            """
            SELECT state FROM hookline.jobs WHERE id = \(id)
            UNION ALL SELECT state FROM hookline.job_history WHERE id = \(id)
            """)
        return try rows.first?.decode(String.self, at: 0)
    }

    @Test func concurrentClaimsSkipEachOthersRowsAndTakeHigherPriorityFirst() async throws {
        try await MigratedDatabase.with(maxConnections: 8) { database in
            let low = try await insertJobs(database, count: 100)
            let high = try await insertJobs(database, count: 10, priority: 5)
            let queue = JobQueue(database: database.client)
            let first = try await queue.claim(limit: 10, worker: "w0", leaseSeconds: 30)
            #expect(Set(first.map(\.id)) == Set(high), "priority first")
            #expect(first.allSatisfy { $0.attempt == 1 && $0.lockedUntil > Date() })
            let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for worker in 1...4 {
                    group.addTask { try await queue.claim(limit: 40, worker: "w\(worker)", leaseSeconds: 30).map(\.id) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let all = claims.flatMap { $0 }
            #expect(all.count == 100, "every job claimed")
            #expect(Set(all).count == 100, "no job claimed twice")
            #expect(Set(all) == Set(low))
            #expect(try await queue.claim(limit: 10, worker: "w9", leaseSeconds: 30).isEmpty)
        }
    }

    @Test func completingMovesJobsIntoHistoryOnlyForTheLeaseHolder() async throws {
        try await MigratedDatabase.with { database in
            let ids = try await insertJobs(database, count: 3)
            let queue = JobQueue(database: database.client)
            let claimed = try await queue.claim(limit: 3, worker: "a", leaseSeconds: 30).map(\.id)
            #expect(try await queue.complete(claimed, worker: "b").isEmpty, "another worker cannot finish them")
            #expect(try await queue.complete(claimed, worker: "a") == Set(ids))
            for id in ids { #expect(try await state(database, id) == "completed") }
            let hot = try await database.client.query("SELECT count(*) FROM hookline.jobs")
            #expect(try hot[0].decode(Int.self, at: 0) == 0, "finished jobs leave the hot table")
            let body = try await database.client.query(
                "SELECT convert_from(body, 'UTF8'), attempt FROM hookline.job_history WHERE id = \(ids[0])")[0]
            #expect(try body.decode((String, Int).self) == ("job 1", 1))
        }
    }

    @Test func aClaimFinishesTheJobsItRanInItsOwnTransactionAndLeasesTheRest() async throws {
        try await MigratedDatabase.with(maxConnections: 8) { database in
            let ids = try await insertJobs(database, count: 6)
            let queue = JobQueue(database: database.client)
            let started = Date()
            let claim = try await queue.claim(limit: 10, worker: "w", leaseSeconds: 30) { _, jobs in
                jobs.filter { $0.id % 2 == 0 }.map { job in
                    JobQueue.Completion(
                        id: job.id, outcome: .succeeded,
                        checkpoint: StepCheckpoint(
                            nextStep: 1, outputs: PostgresJSON(rawJSON: #"{"pass": {"n": \#(job.id)}}"#)),
                        runs: [
                            StepRunRecord(
                                jobID: job.id, stepID: "pass", attempt: job.attempt, startedAt: started,
                                outcome: .succeeded)
                        ])
                }
            }
            let even = ids.filter { $0 % 2 == 0 }
            #expect(Set(claim.finished.map(\.id)) == Set(even))
            #expect(Set(claim.leased.map(\.id)) == Set(ids).subtracting(even))
            #expect(claim.leased.allSatisfy { $0.attempt == 1 && $0.lockedUntil > Date() })
            // Finished: in history with the attempt counted, their outputs and one step run each; gone from jobs.
            let history = try await database.client.query(
                """
                SELECT id, state, outcome, attempt, step_outputs->'pass'->>'n' FROM hookline.job_history ORDER BY id
                """
            ).map { try $0.decode((Int64, String, String, Int, String).self) }
            #expect(history.map(\.0) == even)
            #expect(history.allSatisfy { $0.1 == "completed" && $0.2 == "succeeded" && $0.3 == 1 && $0.4 == "\($0.0)" })
            let runs = try await database.client.query(
                "SELECT job_id, attempt, outcome FROM hookline.step_runs ORDER BY job_id"
            ).map { try $0.decode((Int64, Int, String).self) }
            #expect(runs.map(\.0) == even && runs.allSatisfy { $0.1 == 1 && $0.2 == "succeeded" })
            // Leased: running under this worker, as an ordinary claim leaves them.
            let leased = try await database.client.query(
                "SELECT id, state, attempt, locked_by FROM hookline.jobs ORDER BY id"
            ).map { try $0.decode((Int64, String, Int, String?).self) }
            #expect(leased.map(\.0) == ids.filter { $0 % 2 != 0 })
            #expect(leased.allSatisfy { $0.1 == "running" && $0.2 == 1 && $0.3 == "w" })
        }
    }

    @Test func aClaimThatFailsBeforeItsCommitLeavesEveryJobAsItWas() async throws {
        struct Crash: Error {}
        try await MigratedDatabase.with(maxConnections: 8) { database in
            let ids = try await insertJobs(database, count: 4)
            let queue = JobQueue(database: database.client)
            await #expect(throws: Crash.self) {
                _ = try await queue.claim(limit: 10, worker: "w", leaseSeconds: 30) {
                    _, jobs -> [JobQueue.Completion] in
                    #expect(jobs.count == 4)
                    throw Crash()
                }
            }
            let rows = try await database.client.query(
                "SELECT id, state, attempt, locked_by FROM hookline.jobs ORDER BY id"
            ).map { try $0.decode((Int64, String, Int, String?).self) }
            #expect(rows.map(\.0) == ids)
            #expect(rows.allSatisfy { $0.1 == "available" && $0.2 == 0 && $0.3 == nil })
            #expect(
                try await database.client.query("SELECT count(*) FROM hookline.job_history")[0].decode(Int.self, at: 0)
                    == 0)
            // And they are claimable again at once.
            #expect(try await queue.claim(limit: 10, worker: "w", leaseSeconds: 30).map(\.id) == ids)
        }
    }

    @Test func whileAClaimRunsItsJobsOtherClaimsSkipThemAndFinishingOutsideAClaimTouchesNothing() async throws {
        try await MigratedDatabase.with(maxConnections: 8) { database in
            let ids = try await insertJobs(database, count: 5)
            let queue = JobQueue(database: database.client)
            let inside = AsyncStream<Void>.makeStream()
            let release = DispatchSemaphore(value: 0)
            let first = Task {
                // A claim that fails ends the stream, so that the test does not wait for it forever.
                defer { inside.continuation.finish() }
                return try await queue.claim(limit: 2, worker: "a", leaseSeconds: 30) { _, jobs in
                    inside.continuation.yield()
                    release.wait()
                    return jobs.map { JobQueue.Completion(id: $0.id, outcome: .succeeded) }
                }
            }
            var iterator = inside.stream.makeAsyncIterator()
            await iterator.next()
            // The first claim holds ids[0...1] (its row locks are its lease): a second claim takes the next.
            let second = try await queue.claim(limit: 2, worker: "b", leaseSeconds: 30)
            #expect(second.map(\.id) == Array(ids[2...3]))
            // Without a worker, complete_jobs finishes only rows its own transaction has locked: not those
            // another claim holds, not those leased, not an available one nobody holds.
            let stray = try await database.client.query(
                """
                SELECT count(*) FROM hookline.complete_jobs(
                    NULL, \(ids)::bigint[], NULL, array_fill('succeeded'::text, ARRAY[5]),
                    array_fill(NULL::jsonb, ARRAY[5]),
                    '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}')
                """)
            #expect(try stray[0].decode(Int.self, at: 0) == 0)
            #expect(try await state(database, ids[4]) == "available")
            release.signal()
            let claim = try await first.value
            #expect(claim.finished.map(\.id) == Array(ids[..<2]))
            #expect(try await state(database, ids[0]) == "completed")
            #expect(try await state(database, ids[2]) == "running")
        }
    }

    @Test func failuresBackOffExponentiallyThenDeadLetterWithTheirErrors() async throws {
        try await MigratedDatabase.with { database in
            let id = try await insertJobs(database, count: 1, maxAttempts: 3)[0]
            let queue = JobQueue(database: database.client)
            let policy = RetryPolicy(maxAttempts: 3, backoffSeconds: 10, maxBackoffSeconds: 3600)
            var waits: [Double] = []
            for attempt in 1...2 {
                try await database.client.query("UPDATE hookline.jobs SET run_at = now() WHERE id = \(id)")
                let job = try #require(try await queue.claim(limit: 1, worker: "w", leaseSeconds: 30).first)
                #expect(job.attempt == attempt)
                let before = Date()
                guard
                    case .retrying(let at) = try await queue.fail(
                        id, worker: "w", error: "boom \(attempt)", policy: policy)
                else {
                    Issue.record("expected a retry")
                    return
                }
                waits.append(at.timeIntervalSince(before))
            }
            // 10 s then 20 s, each within the ±25 % jitter: the schedule is visible in run_at.
            #expect((7.4...12.6).contains(waits[0]), "\(waits)")
            #expect((14.9...25.1).contains(waits[1]), "\(waits)")
            try await database.client.query("UPDATE hookline.jobs SET run_at = now() WHERE id = \(id)")
            _ = try await queue.claim(limit: 1, worker: "w", leaseSeconds: 30)
            #expect(try await queue.fail(id, worker: "w", error: "boom 3", policy: policy) == .dead)
            let row = try await database.client.query(
                "SELECT state, last_error, jsonb_array_length(errors) FROM hookline.job_history WHERE id = \(id)")[0]
            #expect(try row.decode((String, String, Int).self) == ("dead", "boom 3", 3))
        }
    }

    @Test func aPermanentFailureIsDeadAtOnce() async throws {
        try await MigratedDatabase.with { database in
            let id = try await insertJobs(database, count: 1)[0]
            let queue = JobQueue(database: database.client)
            _ = try await queue.claim(limit: 1, worker: "w", leaseSeconds: 30)
            #expect(try await queue.fail(id, worker: "w", error: "400 Bad Request", permanent: true) == .dead)
            #expect(try await state(database, id) == "dead")
            #expect(try await queue.fail(id, worker: "w", error: "again") == .notHeld)
        }
    }

    @Test func expiredLeasesAreReclaimedButExtendedOnesAreNot() async throws {
        try await MigratedDatabase.with { database in
            let ids = try await insertJobs(database, count: 2)
            let queue = JobQueue(database: database.client)
            _ = try await queue.claim(limit: 2, worker: "dead-worker", leaseSeconds: 1)
            // The first one's worker keeps renewing; the second one's worker is gone.
            let held = try await queue.heartbeat([ids[0]], worker: "dead-worker", leaseSeconds: 60)
            #expect(held == [ids[0]])
            try await Task.sleep(for: .milliseconds(1200))
            #expect(try await queue.reclaimExpiredLeases() == 1)
            #expect(try await state(database, ids[0]) == "running")
            #expect(try await state(database, ids[1]) == "available")
            let again = try #require(try await queue.claim(limit: 5, worker: "w2", leaseSeconds: 30).first)
            #expect(again.id == ids[1])
            #expect(again.attempt == 2, "the lost attempt counts")
            #expect(try await queue.complete([ids[1]], worker: "dead-worker").isEmpty, "the old owner lost it")
        }
    }

    @Test func heartbeatsLeaveFreshLeasesAloneAndSkipRowsBeingFinished() async throws {
        try await MigratedDatabase.with { database in
            let ids = try await insertJobs(database, count: 2)
            let queue = JobQueue(database: database.client)
            _ = try await queue.claim(limit: 2, worker: "w", leaseSeconds: 30)
            @Sendable func leases() async throws -> [Date] {
                try await database.client.query(
                    "SELECT locked_until FROM hookline.jobs WHERE id = ANY(\(ids)) ORDER BY id"
                ).map { try $0.decode(Date.self, at: 0) }
            }
            let claimed = try await leases()
            // 30 s left, and only leases with under 10 s left are due: nothing is rewritten, both are held.
            #expect(try await queue.heartbeat(ids, worker: "w", leaseSeconds: 30, renewWithinSeconds: 10) == Set(ids))
            #expect(try await leases() == claimed)

            // Another transaction holds the first row (a completion in flight) for two seconds: the heartbeat
            // neither waits for it (which is how heartbeats and completions deadlocked) nor reports it lost.
            let locker = try await holdRowLock(database, ids[0], seconds: 2)
            let clock = ContinuousClock()
            let began = clock.now
            #expect(try await queue.heartbeat(ids, worker: "w", leaseSeconds: 60) == Set(ids))
            #expect(began.duration(to: clock.now) < .milliseconds(1500), "the heartbeat waited for the lock")
            try await locker.value
            let after = try await leases()
            #expect(after[0] == claimed[0], "the locked row was skipped")
            #expect(after[1] > claimed[1].addingTimeInterval(20), "the other lease was extended")
        }
    }

    @Test func theReaperSkipsExpiredRowsBeingFinishedAndTakesThemLater() async throws {
        try await MigratedDatabase.with { database in
            let ids = try await insertJobs(database, count: 2)
            let queue = JobQueue(database: database.client)
            _ = try await queue.claim(limit: 2, worker: "gone", leaseSeconds: 30)
            try await database.client.query(
                "UPDATE hookline.jobs SET locked_until = now() - interval '1 second' WHERE id = ANY(\(ids))")
            // A completion holds the first row for two seconds: the reaper neither waits for it (which is how
            // the reaper could deadlock with a batch completion) nor touches it.
            let locker = try await holdRowLock(database, ids[0], seconds: 2)
            let clock = ContinuousClock()
            let began = clock.now
            #expect(try await queue.reclaimExpiredLeases() == 1)
            #expect(began.duration(to: clock.now) < .milliseconds(1500), "the reaper waited for the lock")
            #expect(try await state(database, ids[0]) == "running")
            #expect(try await state(database, ids[1]) == "available")
            try await locker.value
            #expect(try await queue.reclaimExpiredLeases() == 1)
            #expect(try await state(database, ids[0]) == "available")
        }
    }

    @Test func aJobThatExhaustsItsAttemptsByLosingLeasesIsDead() async throws {
        try await MigratedDatabase.with { database in
            let id = try await insertJobs(database, count: 1, maxAttempts: 1)[0]
            let queue = JobQueue(database: database.client)
            _ = try await queue.claim(limit: 1, worker: "w", leaseSeconds: 1)
            try await database.client.query(
                "UPDATE hookline.jobs SET locked_until = now() - interval '1 second' WHERE id = \(id)")
            #expect(try await queue.reclaimExpiredLeases() == 1)
            #expect(try await state(database, id) == "dead")
        }
    }

    @Test func anEarlierAttemptOfTheSameWorkerCanNeitherFinishNorFailTheJob() async throws {
        try await MigratedDatabase.with { database in
            let id = try await insertJobs(database, count: 1)[0]
            let queue = JobQueue(database: database.client)
            let first = try #require(try await queue.claim(limit: 1, worker: "w", leaseSeconds: 30).first)
            // The lease ran out while the run went on (its heartbeats failed); the same worker claims the job again.
            try await database.client.query(
                "UPDATE hookline.jobs SET locked_until = now() - interval '1 second' WHERE id = \(id)")
            #expect(try await queue.reclaimExpiredLeases() == 1)
            let second = try #require(try await queue.claim(limit: 1, worker: "w", leaseSeconds: 30).first)
            #expect(second.attempt == first.attempt + 1)
            // The first run ends while the second goes on: what it says is no longer the job's.
            let stale = JobQueue.Completion(id: id, attempt: first.attempt, outcome: .succeeded)
            #expect(try await queue.complete([stale], worker: "w").isEmpty)
            #expect(try await queue.fail(id, attempt: first.attempt, worker: "w", error: "the first run") == .notHeld)
            #expect(try await state(database, id) == "running")
            let current = JobQueue.Completion(id: id, attempt: second.attempt, outcome: .succeeded)
            #expect(try await queue.complete([current], worker: "w") == [id])
        }
    }

    @Test func theBackoffScheduleDoublesAndIsCapped() {
        let policy = RetryPolicy(maxAttempts: 10, backoffSeconds: 5, maxBackoffSeconds: 60)
        #expect((1...6).map { policy.backoff(afterAttempt: $0, jitter: 0) } == [5, 10, 20, 40, 60, 60])
        #expect(policy.backoff(afterAttempt: 1, jitter: 0.25) == 6.25)
    }
}
