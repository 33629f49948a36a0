import Foundation
import Postgres
import Testing

/// The database the tests run against: `DATABASE_URL`, which `scripts/test` points at a throwaway cluster.
public enum TestDatabase {
    public static var url: String {
        get throws {
            try #require(
                ProcessInfo.processInfo.environment["DATABASE_URL"],
                "DATABASE_URL is not set: run the tests with scripts/test")
        }
    }

    public static func client(maxConnections: Int = 4) throws -> PostgresClient {
        PostgresClient(connectionString: try url, maxConnections: maxConnections)
    }

    /// A name (of a table, channel or database) that no other test uses.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
    }

    private static func withAdmin(_ body: (PostgresClient) async throws -> Void) async throws {
        let admin = try client(maxConnections: 1)
        defer { admin.close() }
        try await body(admin)
    }

    /// Creates an empty database of the test's own and returns its URL; `drop` removes it.
    /// - Parameter options: what follows `CREATE DATABASE name`, e.g. another encoding.
    public static func makeDatabase(options: String = "") async throws
        -> (url: String, drop: @Sendable () async -> Void)
    {
        let name = uniqueName("test")
        // A connection to the main database only while it creates or drops: kept for the test's life, each
        // live test database held one more, and the suite's hundred at once reached max_connections.
        try await withAdmin { try await $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) \(options)")) }
        var components = try #require(URLComponents(string: try url))
        components.path = "/\(name)"
        let drop: @Sendable () async -> Void = {
            try? await withAdmin {
                try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
            }
        }
        return (try #require(components.string), drop)
    }
}
