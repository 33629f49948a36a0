import Foundation
import Postgres

/// The idempotency keys of the admin API's creating requests, per console client, kept for 24 hours
/// (`hookline.api_idempotency_keys`).
///
/// A request claims its key before it runs and stores its answer after; a repeat then gets that answer. The
/// claim and the work are two transactions: a process that dies between them leaves the key claimed with no
/// answer, and after `staleClaim` a repeat takes it over and runs the request again. Each claim has a token,
/// so that a request whose claim was taken over can neither store its answer over the new one's nor give up
/// the new one's claim.
public struct APIIdempotencyStore: Sendable {
    public let database: PostgresClient
    /// How long a claim without an answer holds off repeats before one may take it over: far longer than a
    /// creating request takes.
    public let staleClaim: Duration

    public init(database: PostgresClient, staleClaim: Duration = defaultStaleClaim) {
        self.database = database
        self.staleClaim = staleClaim
    }

    /// How long a key and its answer are kept: the API's contract (api/openapi.yaml promises 24 hours).
    public static let retention: Duration = .seconds(86_400)
    /// `staleClaim` unless told otherwise (`hookline serve --api-idempotency-claim-seconds`).
    public static let defaultStaleClaim: Duration = .seconds(300)

    /// Claims `key` for a request whose method, path and body hash to `requestHash`.
    public func claim(client: UUID, key: String, requestHash: Data) async throws -> IdempotencyClaim {
        let retention = Int(Self.retention.components.seconds)
        let stale = Int(staleClaim.components.seconds)
        let token = UUID()
        return try await database.withTransaction { connection in
            // Keys past their retention go: this one, and a bounded batch of others, so the table stays small
            // without a sweeper of its own.
            try connection.query(
                """
                DELETE FROM hookline.api_idempotency_keys
                WHERE client_id = \(client) AND key = \(key) AND created_at < now() - make_interval(secs => \(retention))
                """)
            try connection.query(
                """
                DELETE FROM hookline.api_idempotency_keys WHERE ctid = ANY(ARRAY(
                    SELECT ctid FROM hookline.api_idempotency_keys
                    WHERE created_at < now() - make_interval(secs => \(retention)) LIMIT 100))
                """)
            let inserted = try connection.query(
                """
                INSERT INTO hookline.api_idempotency_keys (client_id, key, request_hash, claim)
                VALUES (\(client), \(key), \(requestHash), \(token)) ON CONFLICT DO NOTHING RETURNING 1
                """)
            if !inserted.isEmpty { return .fresh(token: token) }
            let rows = try connection.query(
                """
                SELECT request_hash, status, content_type, etag, body,
                       created_at < now() - make_interval(secs => \(stale))
                FROM hookline.api_idempotency_keys WHERE client_id = \(client) AND key = \(key) FOR UPDATE
                """)
            guard let row = rows.first else { return .inProgress }
            let (hash, status, contentType, etag, body, isStale) = try row.decode(
                (Data, Int?, String?, String?, Data?, Bool).self)
            guard hash == requestHash else { return .mismatch }
            if let status {
                return .replay(StoredAnswer(status: status, contentType: contentType, etag: etag, body: body ?? Data()))
            }
            guard isStale else { return .inProgress }
            try connection.query(
                """
                UPDATE hookline.api_idempotency_keys SET claim = \(token), created_at = now()
                WHERE client_id = \(client) AND key = \(key)
                """)
            return .fresh(token: token)
        }
    }

    /// Stores the answer of the request that holds the claim `token` on `key`; nothing if the claim was taken
    /// over meanwhile.
    public func finish(client: UUID, key: String, claim token: UUID, answer: StoredAnswer) async throws {
        try await database.query(
            """
            UPDATE hookline.api_idempotency_keys
            SET status = \(answer.status), content_type = \(answer.contentType), etag = \(answer.etag),
                body = \(answer.body)
            WHERE client_id = \(client) AND key = \(key) AND claim = \(token) AND status IS NULL
            """)
    }

    /// Gives up the claim `token` (its request failed in a way worth retrying): a repeat runs the request
    /// again.
    public func release(client: UUID, key: String, claim token: UUID) async throws {
        try await database.query(
            """
            DELETE FROM hookline.api_idempotency_keys
            WHERE client_id = \(client) AND key = \(key) AND claim = \(token) AND status IS NULL
            """)
    }
}
