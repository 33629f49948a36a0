import Foundation
import HooklineWorker
import Logging
import Postgres
import TestSupport
import Testing

@Suite("A worker's LISTEN on a connection string of its own")
struct WorkerListenConnectionTests {
    /// Behind a transaction-mode pooler the pool cannot LISTEN: the worker's subscription takes the listen
    /// connection string (here told apart by its application_name), and the pool keeps the other.
    @Test func aWorkerListensThroughTheListenConnectionString() async throws {
        try await MigratedDatabase.with(maxConnections: 4) { database in
            let name = TestDatabase.uniqueName("listen")
            let pool = PostgresClient(
                configuration: .init(
                    connectionString: database.url, maxConnections: 4,
                    listenConnectionString: database.url + "?application_name=\(name)"))
            defer { pool.close() }
            var logger = Logger(label: "test.listen")
            logger.logLevel = .warning
            let worker = Worker(
                settings: WorkerSettings(pollInterval: .seconds(600)), database: pool, runner: WhoRan(),
                logger: logger, name: "w")
            let running = Task { try await worker.run() }
            try await eventually(within: .seconds(20)) {
                try await database.client.query(
                    """
                    SELECT count(*) FROM pg_stat_activity
                    WHERE application_name = \(name) AND query ILIKE 'listen%'
                    """
                )[0].decode(Int.self, at: 0) == 1
            }
            // Drained before its database is dropped.
            worker.shutdown()
            _ = await running.result
        }
    }
}
