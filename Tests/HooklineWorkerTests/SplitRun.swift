import Foundation
import Hookline
import HooklineWorker
import Postgres
import Testing

/// Runs split parents through the cycle runner without a worker, so that their children stay in the hot
/// table to be looked at.
enum SplitRun {
    /// Claims `count` jobs and runs each through the cycle runner; each must end as a split.
    static func runClaimed(_ count: Int, in fixture: CycleFixture) async throws {
        let definitions = CycleDefinitions(database: fixture.database.client)
        let caller = HTTPCaller(allowPrivateDestinations: true)
        let runner = CycleRunner(database: fixture.database.client, definitions: definitions, caller: caller)
        let jobs = try await JobQueue(database: fixture.database.client).claim(
            limit: count, worker: "split-test", leaseSeconds: 60)
        #expect(jobs.count == count)
        for job in jobs {
            #expect(try await runner.run(job, worker: "split-test") == .completed(outcome: .split))
        }
        try await caller.shutdown()
    }

    struct Child {
        var outputs: JSON
        var headers: JSON
        var nextStep: Int
        var body: String
    }

    static func childRows(of parent: Int64, in fixture: CycleFixture) async throws -> [Child] {
        try await fixture.database.client.query(
            """
            SELECT step_outputs, headers, next_step, convert_from(body, 'UTF8') FROM hookline.jobs
            WHERE parent_id = \(parent) ORDER BY id
            """
        ).map { row in
            Child(
                outputs: try JSON(parsing: row.decode(PostgresJSON.self, at: 0).bytes),
                headers: try JSON(parsing: row.decode(PostgresJSON.self, at: 1).bytes),
                nextStep: try row.decode(Int.self, at: 2), body: try row.decode(String.self, at: 3))
        }
    }

    static func walPosition(_ fixture: CycleFixture) async throws -> String {
        try await fixture.database.client.query("SELECT pg_current_wal_lsn()::text")[0].decode(String.self, at: 0)
    }

    static func walBytes(from before: String, to after: String, _ fixture: CycleFixture) async throws -> Int64 {
        try await fixture.database.client.query(
            "SELECT (\(after)::text::pg_lsn - \(before)::text::pg_lsn)::int8"
        )[0].decode(Int64.self, at: 0)
    }
}
