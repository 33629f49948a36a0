import Foundation
import Postgres

/// Creates and lists accounts.
public struct AccountStore: Sendable {
    public let database: PostgresClient

    public init(database: PostgresClient) { self.database = database }

    /// Creates an account.
    /// - Throws: ``HooklineError/invalidField(_:_:)`` for an empty name.
    public func create(name: String) async throws -> Account {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw HooklineError.invalidField("name", "an account needs a name") }
        let rows = try await database.query(
            "INSERT INTO hookline.accounts (name) VALUES (\(name)) RETURNING id, name, created_at")
        return try Self.account(rows[0])
    }

    /// Every account, oldest first.
    public func list() async throws -> [Account] {
        try await database.query("SELECT id, name, created_at FROM hookline.accounts ORDER BY created_at, id")
            .map(Self.account)
    }

    /// The account with `id`, if any.
    public func find(_ id: UUID) async throws -> Account? {
        try await database.query("SELECT id, name, created_at FROM hookline.accounts WHERE id = \(id)").first.map(
            Self.account)
    }

    static func account(_ row: PostgresRow) throws -> Account {
        let (id, name, createdAt) = try row.decode((UUID, String, Date).self)
        return Account(id: id, name: name, createdAt: createdAt)
    }
}
