import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

/// Stopping or activating a cycle moves its waiting jobs. `serve` runs every statement under its database
/// timeout, and a cycle whose destination broke can have a backlog that one UPDATE does not move within it.
@Suite("A cycle's backlog moved in batches")
struct CycleBacklogMoveTests {
    /// 200,000 waiting jobs, and a pool whose statements may take 250 ms: one UPDATE of them all was cancelled,
    /// leaving the cycle stopped and its jobs available to the workers (and activating it, its jobs held).
    @Test func aBacklogLargerThanOneStatementMayMoveIsMovedWhole() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount()
            let cycle = try await CycleStore(database: database.client).create(
                account: account.id, definition: Array(#"{"name": "backlog", "steps": []}"#.utf8))
            try await database.client.query(
                """
                INSERT INTO hookline.jobs (account_id, cycle_id, cycle_version, body)
                SELECT \(account.id), \(cycle.id), 1, '\\x7b7d'::bytea FROM generate_series(1, 200000)
                """)
            let timed = PostgresClient(
                configuration: .init(
                    connectionString: database.url, maxConnections: 2, statementTimeout: .milliseconds(250)))
            defer { timed.close() }
            let cycles = CycleStore(database: timed)
            let count = { (state: JobState) in
                try await database.client.query(
                    "SELECT count(*) FROM hookline.jobs WHERE cycle_id = \(cycle.id) AND state = \(state)"
                )[0].decode(Int.self, at: 0)
            }
            _ = try await cycles.setActive(cycle.id, false)
            #expect(try await count(.available) == 0)
            #expect(try await count(.held) == 200_000)
            _ = try await cycles.setActive(cycle.id, true)
            #expect(try await count(.held) == 0)
            #expect(try await count(.available) == 200_000)
        }
    }
}
