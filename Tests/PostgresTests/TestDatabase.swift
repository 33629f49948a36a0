import Foundation
import Postgres
import Testing

/// The database the tests run against: `DATABASE_URL`, which `scripts/test` points at a throwaway cluster.
enum TestDatabase {
    static var url: String {
        get throws {
            try #require(
                ProcessInfo.processInfo.environment["DATABASE_URL"],
                "DATABASE_URL is not set: run the tests with scripts/test")
        }
    }

    static func client(maxConnections: Int = 4) throws -> PostgresClient {
        PostgresClient(connectionString: try url, maxConnections: maxConnections)
    }

    /// A table name no other test uses.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
    }
}
