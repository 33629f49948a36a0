import Foundation
import HooklineServer
import Hummingbird
import HummingbirdTesting
import Postgres
import TestSupport
import Testing

@Suite("Serve's LISTEN on a connection string of its own")
struct ServeListenConnectionTests {
    /// Behind a transaction-mode pooler the pool cannot LISTEN: the caches' subscription takes the listen
    /// connection string (here told apart by its application_name), and the pool keeps the other.
    @Test func serveListensThroughTheListenConnectionString() async throws {
        try await ServerFixture.run { fixture in
            let name = TestDatabase.uniqueName("listen")
            let database = PostgresClient(
                configuration: .init(
                    connectionString: fixture.database.url, maxConnections: 2,
                    listenConnectionString: fixture.database.url + "?application_name=\(name)"))
            defer { database.close() }
            let app = buildApplication(
                settings: ServerSettings(host: "127.0.0.1", port: 0),
                dependencies: ServerDependencies(
                    database: database, now: fixture.clock.closure, logger: fixture.logs.logger()))
            try await app.test(.live) { _ in
                try await eventually(within: .seconds(20)) {
                    try await fixture.database.client.query(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = \(name)"
                    )[0].decode(Int.self, at: 0) == 1
                }
            }
        }
    }
}
