import Foundation
import Hookline
import Postgres

/// A throwaway database of the test's own with Hookline's schema, and a pool on it.
public struct MigratedDatabase: Sendable {
    public let url: String
    public let client: PostgresClient
    private let drop: @Sendable () async -> Void

    public static func make(maxConnections: Int = 4) async throws -> MigratedDatabase {
        let (url, drop) = try await TestDatabase.makeDatabase()
        let client = PostgresClient(connectionString: url, maxConnections: maxConnections)
        let migrations = try Migration.load(from: Migration.locateDirectory())
        _ = try await Migrator(client: client, migrations: migrations).migrate()
        return MigratedDatabase(url: url, client: client, drop: drop)
    }

    /// Runs `body` with a fresh migrated database, and removes the database afterwards whatever happens.
    @discardableResult
    public static func with<T>(
        maxConnections: Int = 4, _ body: (MigratedDatabase) async throws -> T
    ) async throws -> T {
        let database = try await make(maxConnections: maxConnections)
        do {
            let value = try await body(database)
            await database.remove()
            return value
        } catch {
            await database.remove()
            throw error
        }
    }

    /// Closes the pool and drops the database.
    public func remove() async {
        client.close()
        await drop()
    }

    /// An account, for tests that need one.
    public func makeAccount(_ name: String = "Test account") async throws -> Account {
        try await AccountStore(database: client).create(name: name)
    }
}
