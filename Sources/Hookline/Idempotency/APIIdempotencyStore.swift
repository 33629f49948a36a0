import Foundation
import Postgres

/// The idempotency keys of the admin API's creating requests, per console client, kept for 24 hours
/// (`hookline.api_idempotency_keys`).
///
/// A request claims its key before it runs and stores its answer after; a repeat then gets that answer. The
/// claim and the work are two transactions: a process that dies between them leaves the key claimed with no
/// answer, and after ``staleClaim`` a repeat takes it over and runs the request again.
public struct APIIdempotencyStore: Sendable {
    public let database: PostgresClient

    public init(database: PostgresClient) { self.database = database }

    /// How long a key and its answer are kept.
    public static let retention: Duration = .seconds(86_400)
    /// How long a claim without an answer holds off repeats before one may take it over.
    public static let staleClaim: Duration = .seconds(60)

    /// Claims `key` for a request whose method, path and body hash to `requestHash`.
    public func claim(client: UUID, key: String, requestHash: Data) async throws -> IdempotencyClaim {
        let retention = Int(Self.retention.components.seconds)
        let stale = Int(Self.staleClaim.components.seconds)
        return try await database.withTransaction { connection in
            // Keys past their retention go, this one and a bounded batch of others, so the table stays small
            // without a sweeper of its own.
            try connection.query(
                """
                DELETE FROM hookline.api_idempotency_keys WHERE ctid IN (
                    SELECT ctid FROM hookline.api_idempotency_keys
                    WHERE created_at < now() - make_interval(secs => \(retention)) LIMIT 100)
                   OR (client_id = \(client) AND key = \(key)
                       AND created_at < now() - make_interval(secs => \(retention)))
                """)
            let inserted = try connection.query(
                """
                INSERT INTO hookline.api_idempotency_keys (client_id, key, request_hash)
                VALUES (\(client), \(key), \(requestHash)) ON CONFLICT DO NOTHING RETURNING 1
                """)
            if !inserted.isEmpty { return .fresh }
            let rows = try connection.query(
                """
                SELECT request_hash, status, content_type, body,
                       created_at < now() - make_interval(secs => \(stale))
                FROM hookline.api_idempotency_keys WHERE client_id = \(client) AND key = \(key) FOR UPDATE
                """)
            guard let row = rows.first else { return .inProgress }
            let (hash, status, contentType, body, isStale) = try row.decode((Data, Int?, String?, Data?, Bool).self)
            guard hash == requestHash else { return .mismatch }
            if let status { return .replay(status: status, contentType: contentType, body: body ?? Data()) }
            guard isStale else { return .inProgress }
            try connection.query(
                """
                UPDATE hookline.api_idempotency_keys SET created_at = now()
                WHERE client_id = \(client) AND key = \(key)
                """)
            return .fresh
        }
    }

    /// Stores the answer of the request that claimed `key`.
    public func finish(client: UUID, key: String, status: Int, contentType: String?, body: Data) async throws {
        try await database.query(
            """
            UPDATE hookline.api_idempotency_keys SET status = \(status), content_type = \(contentType), body = \(body)
            WHERE client_id = \(client) AND key = \(key)
            """)
    }

    /// Gives up a claim (the request failed in a way worth retrying): a repeat runs the request again.
    public func release(client: UUID, key: String) async throws {
        try await database.query(
            "DELETE FROM hookline.api_idempotency_keys WHERE client_id = \(client) AND key = \(key) AND status IS NULL")
    }
}
