import Foundation
import Hookline
import HooklineWorker
import Logging
import Postgres
import Synchronization
import TestSupport
import Testing

/// Writes down which worker ran each job.
final class WhoRan: JobRunner {
    let runs = Mutex([Int64: String]())

    func run(_ job: ClaimedJob, worker: String) async throws -> JobResult {
        runs.withLock { $0[job.id] = worker }
        return .completed(outcome: .succeeded)
    }
}

@Suite("Waking workers")
struct WakeUpTests {
    @Test func aNotificationGoesFirstToTheProcessItNames() async throws {
        try await MigratedDatabase.with(maxConnections: 8) { database in
            let account = try await database.makeAccount()
            let runner = WhoRan()
            var logger = Logger(label: "test.wake")
            logger.logLevel = .warning
            // Polling is as good as off, and the process not named waits a whole second.
            let workers = (0..<2).map { index in
                Worker(
                    settings: WorkerSettings(
                        pollInterval: .seconds(600), groupIndex: index, groupSize: 2, sharedWakeDelay: .seconds(1)),
                    database: database.client, runner: runner, logger: logger, name: "w\(index)")
            }
            let running = workers.map { worker in Task { try await worker.run() } }
            // Both LISTENing (and done with the claim each makes when LISTEN is in place).
            try await eventually(within: .seconds(20)) {
                try await database.client.query(
                    """
                    SELECT count(*) FROM pg_stat_activity
                    WHERE application_name = 'hookline-listener' AND datname = current_database()
                      AND query ILIKE 'listen%'
                    """
                )[0].decode(Int.self, at: 0) == 2
            }
            try await Task.sleep(for: .milliseconds(500))
            for token in 0..<6 {
                let id = try await database.client.withTransaction { connection in
                    let id = try connection.query(
                        "INSERT INTO hookline.jobs (account_id) VALUES (\(account.id)) RETURNING id"
                    )[0].decode(Int64.self, at: 0)
                    try connection.notify("hookline_jobs", payload: String(token))
                    return id
                }
                try await eventually(within: .seconds(10)) { runner.runs.withLock { $0[id] != nil } }
                #expect(runner.runs.withLock { $0[id] } == "w\(token % 2)", "token \(token)")
            }
            for worker in workers { worker.shutdown() }
            for task in running { try await task.value }
        }
    }
}
