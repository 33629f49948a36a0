import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

@Suite("hookline jobs retry: resume at the failed step, or --from-start")
struct JobsRetryCommandTests {
    @Test func aRetryResumesAtTheFailedStepAndFromStartStartsOver() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount().id
            // Two jobs that died at their third step (index 2), with the outputs of the two before it.
            let queue = JobQueue(database: database.client)
            let ids = try await queue.insert(Array(repeating: NewJob(accountID: account, maxAttempts: 1), count: 2))
            #expect(try await queue.claim(limit: 2, worker: "w", leaseSeconds: 60).count == 2)
            let progress = StepCheckpoint(
                nextStep: 2, outputs: PostgresJSON(rawJSON: #"{"one": {"status": 200}, "two": {"n": 1}}"#))
            for id in ids {
                let outcome = try await queue.fail(id, worker: "w", error: "step three failed", checkpoint: progress)
                #expect(outcome == .dead)
            }

            let resumed = try #require(
                try await HooklineBinary.json(["jobs", "retry", "\(ids[0])"], url: database.url) as? [String: Any])
            #expect(resumed["retried"] as? [Int64] == [ids[0]])
            let restarted = try #require(
                try await HooklineBinary.json(["jobs", "retry", "--from-start", "\(ids[1])"], url: database.url)
                    as? [String: Any])
            #expect(restarted["retried"] as? [Int64] == [ids[1]])

            let rows = try await database.client.query(
                "SELECT id, state, attempt, next_step, step_outputs::text FROM hookline.jobs ORDER BY id"
            ).map { try $0.decode((Int64, String, Int, Int, String).self) }
            #expect(rows.map(\.0) == ids)
            #expect(rows.allSatisfy { $0.1 == "available" && $0.2 == 0 })
            #expect(rows.first?.3 == 2, "resumed at the step that failed")
            #expect(rows.first?.4 == #"{"one": {"status": 200}, "two": {"n": 1}}"#, "with the outputs before it")
            #expect(rows.last?.3 == 0, "--from-start starts over")
            #expect(rows.last?.4 == "{}")
        }
    }

    /// An empty job id or a mistyped flag must not become a bulk retry of every account's jobs.
    @Test func aBulkRetryNeedsAnAccountACycleOrAll() async throws {
        try await MigratedDatabase.with { database in
            let queue = JobQueue(database: database.client)
            let accounts = [try await database.makeAccount().id, try await database.makeAccount().id]
            let ids = try await queue.insert(accounts.map { NewJob(accountID: $0, maxAttempts: 1) })
            try await database.client.query("SELECT hookline.move_to_history(\(ids), 'dead', 'failed')")
            for arguments in [["jobs", "retry"], ["jobs", "retry", ""], ["jobs", "retry", "--all", "\(ids[0])"]] {
                let refused = try await HooklineBinary.run(arguments + ["--database-url", database.url])
                #expect(refused.status == 64, "\(arguments)")
                #expect(refused.stderr.hasPrefix("Error: "), "\(arguments): \(refused.stderr)")
            }
            #expect(
                try await database.client.query("SELECT count(*) FROM hookline.job_history WHERE state = 'dead'")[0]
                    .decode(Int.self, at: 0) == 2, "nothing was requeued")
            let all = try #require(
                try await HooklineBinary.json(["jobs", "retry", "--all"], url: database.url) as? [String: Any])
            #expect(Set(all["retried"] as? [Int64] ?? []) == Set(ids))
        }
    }
}
