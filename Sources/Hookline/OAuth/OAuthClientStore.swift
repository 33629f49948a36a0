import Foundation
import Postgres

/// Creates, lists, authenticates and revokes OAuth clients, and issues and revokes their tokens.
public struct OAuthClientStore: Sendable {
    public let database: PostgresClient
    /// The clock that stamps issue and expiry times (tests drive it).
    public let now: @Sendable () -> Date

    /// The live tokens a client keeps at most (`hookline serve --max-tokens-per-client`).
    public static let defaultLiveTokensPerClient = 1_000
    /// The most tokens past the cap that one issuance drops.
    static let tokensDroppedPerIssue = 20

    /// The live tokens a client keeps: issuing one more drops its oldest.
    public let liveTokensPerClient: Int

    public init(
        database: PostgresClient, now: @escaping @Sendable () -> Date = { Date() },
        liveTokensPerClient: Int = defaultLiveTokensPerClient
    ) {
        self.liveTokensPerClient = liveTokensPerClient
        self.database = database
        self.now = now
    }

    static let columns = """
        id, client_id, account_id, scope, description, token_lifetime_seconds, created_at, revoked_at
        """

    // MARK: Clients

    /// Creates client credentials.
    ///
    /// - Parameters:
    ///   - account: the owning account for `webhook` and `mcp`; must be `nil` for `api` (console-level).
    ///   - expiresMinutes: the lifetime of issued tokens; 14 days when `nil`.
    /// - Throws: ``HooklineError`` when the scope and account do not fit, the lifetime is out of range, or
    ///   the account does not exist.
    public func create(
        account: UUID?, scope: OAuthScope, expiresMinutes: Int? = nil, description: String = ""
    ) async throws -> CreatedOAuthClient {
        if scope.isAccountLevel && account == nil {
            throw HooklineError.invalidField("account_id", "a \(scope.rawValue) client belongs to an account")
        }
        if !scope.isAccountLevel && account != nil {
            throw HooklineError.invalidField("account_id", "console-level (api) clients belong to no account")
        }
        // The API's schema says as much; the console and the CLI reach this without it.
        // Counted as JSON Schema's maxLength counts (code points): grapheme clusters can hide any number.
        guard description.unicodeScalars.count <= 200, !description.unicodeScalars.contains("\u{0}") else {
            throw HooklineError.invalidField("description", "at most 200 characters, without U+0000")
        }
        var lifetime = OAuthClient.defaultTokenLifetimeSeconds
        if let expiresMinutes {
            guard (1...5_256_000).contains(expiresMinutes) else {
                throw HooklineError.invalidField("token_lifetime_minutes", "1 to 5256000 (10 years)")
            }
            lifetime = expiresMinutes * 60
        }
        let clientID = Secrets.generate(prefix: Secrets.clientIDPrefix, bytes: Secrets.clientIDBytes)
        let secret = Secrets.generate(prefix: Secrets.secretPrefix, bytes: Secrets.secretBytes)
        let secretHash = Secrets.hash(secret)
        let createdAt = now()
        let query: PostgresQuery = """
            INSERT INTO hookline.oauth_clients
                (client_id, account_id, scope, description, secret_hash, token_lifetime_seconds, created_at)
            VALUES (\(clientID), \(account), \(scope.rawValue), \(description), \(secretHash), \(Int32(lifetime)),
                    \(createdAt))
            RETURNING \(unsafe: Self.columns)
            """
        do {
            let rows = try await database.query(query)
            return CreatedOAuthClient(client: try Self.client(rows[0]), clientSecret: secret)
        } catch let error as PostgresError where error.code == .foreignKeyViolation {
            throw HooklineError.notFound("no account \(account?.uuidString.lowercased() ?? "")")
        }
    }

    /// Clients of one account, or every client (console-level included) when `account` is `nil`.
    public func list(account: UUID? = nil) async throws -> [OAuthClient] {
        let query: PostgresQuery = """
            SELECT \(unsafe: Self.columns) FROM hookline.oauth_clients
            WHERE \(account)::uuid IS NULL OR account_id = \(account)
            ORDER BY created_at, client_id
            """
        return try await database.query(query).map(Self.client)
    }

    /// The client with this client ID (revoked or not), if any.
    public func find(clientID: String) async throws -> OAuthClient? {
        // Not one of ours, such as a path's `%00` (which PostgreSQL's text refuses with an error): no client.
        guard Secrets.isClientIDShaped(clientID) else { return nil }
        return try await database.query(
            "SELECT \(unsafe: Self.columns) FROM hookline.oauth_clients WHERE client_id = \(clientID)"
        ).first.map(Self.client)
    }

    /// Revokes a client: it can no longer obtain tokens, and every token it holds stops working on every
    /// running instance as soon as this commits.
    /// - Throws: ``HooklineError/notFound(_:)`` for an unknown client ID.
    @discardableResult
    public func revoke(clientID: String) async throws -> OAuthClient {
        guard Secrets.isClientIDShaped(clientID) else { throw HooklineError.notFound("no such client") }
        let at = now()
        let client = try await database.withTransaction { connection -> OAuthClient? in
            let rows = try connection.query(
                """
                UPDATE hookline.oauth_clients SET revoked_at = coalesce(revoked_at, \(at))
                WHERE client_id = \(clientID) RETURNING \(unsafe: Self.columns)
                """)
            guard let row = rows.first else { return nil }
            let client = try Self.client(row)
            try connection.query(
                """
                UPDATE hookline.access_tokens SET revoked_at = \(at)
                WHERE client_id = \(client.id) AND revoked_at IS NULL
                """)
            try connection.notify(AuthNotifications.channel, payload: AuthNotifications.clientRevoked(client.id))
            return client
        }
        guard let client else { throw HooklineError.notFound("no client \(clientID)") }
        return client
    }

    /// The client whose ID and secret these are, if it exists and is not revoked.
    ///
    /// The secret's hash is compared in constant time. Unknown IDs hash and compare too, so that timing
    /// does not tell which client IDs exist.
    public func authenticate(clientID: String, secret: String) async throws -> OAuthClient? {
        let presented = Secrets.hash(secret)
        let rows = try await database.query(
            """
            SELECT \(unsafe: Self.columns), secret_hash FROM hookline.oauth_clients WHERE client_id = \(clientID)
            """)
        guard let row = rows.first else {
            _ = Secrets.constantTimeEquals(presented, Data(repeating: 0, count: presented.count))
            return nil
        }
        let stored = try row.decode(Data.self, named: "secret_hash")
        guard Secrets.constantTimeEquals(presented, stored) else { return nil }
        let client = try Self.client(row)
        return client.revokedAt == nil ? client : nil
    }

    // MARK: Tokens

    /// Issues a new access token to an authenticated client. Earlier tokens stay valid until they expire.
    ///
    /// The token is inserted by one statement that requires the client to be live and takes a share lock on
    /// its row: a concurrent ``revoke(clientID:)`` either commits first (then this finds the client revoked
    /// and issues nothing) or waits for this insert to commit (then its own token update, a later statement,
    /// sees the new token and revokes it). No token can outlive its client's revocation.
    /// - Throws: ``HooklineError/revoked(_:)`` when the client was revoked since it authenticated.
    ///
    /// A client keeps its ``liveTokensPerClient`` newest live tokens: the ones before go as the new one is
    /// issued, up to ``tokensDroppedPerIssue`` at a time (and every instance's cache drops them), as GitHub keeps
    /// ten per app and scope. Issuances of one client at its cap take turns on the oldest row. A client that fetches a token for
    /// every request would otherwise grow the shared database by a row each time for its tokens' lifetime
    /// (14 days by default: 60 million rows at 50 a second), and revoking it would update them all at once.
    public func issueToken(to client: OAuthClient) async throws -> IssuedToken {
        let token = Secrets.generate(prefix: Secrets.tokenPrefix, bytes: Secrets.tokenBytes)
        let hash = Secrets.hash(token)
        let issuedAt = now()
        let expiresAt = issuedAt.addingTimeInterval(TimeInterval(client.tokenLifetimeSeconds))
        try await database.withTransaction { connection in
            let rows = try connection.query(
                """
                INSERT INTO hookline.access_tokens (token_hash, client_id, account_id, scope, issued_at, expires_at)
                SELECT \(hash), c.id, c.account_id, c.scope, \(issuedAt), \(expiresAt)
                FROM hookline.oauth_clients c WHERE c.id = \(client.id) AND c.revoked_at IS NULL
                FOR SHARE
                """)
            guard rows.affectedRows == 1 else { throw HooklineError.revoked("client \(client.clientID) is revoked") }
            // A few at a time, newest first by an index: a client with millions of tokens from before the cap
            // (or a lowered cap) converges over its next issuances, each as cheap as the last, instead of one
            // that deletes them all and outlasts the statement timeout.
            let dropped = try connection.query(
                """
                DELETE FROM hookline.access_tokens WHERE token_hash IN (
                    SELECT token_hash FROM hookline.access_tokens
                    WHERE client_id = \(client.id) AND revoked_at IS NULL AND expires_at > \(issuedAt)
                      AND token_hash <> \(hash)
                    ORDER BY issued_at DESC OFFSET \(liveTokensPerClient - 1) LIMIT \(Self.tokensDroppedPerIssue))
                RETURNING token_hash
                """)
            for row in dropped {
                let hash = try row.decode(Data.self, at: 0)
                try connection.notify(AuthNotifications.channel, payload: AuthNotifications.tokenRevoked(hash))
            }
        }
        return IssuedToken(
            accessToken: token, expiresIn: client.tokenLifetimeSeconds, expiresAt: expiresAt, scope: client.scope,
            clientID: client.clientID)
    }

    /// Revokes one of `client`'s own tokens (RFC 7009). Unknown tokens and other clients' tokens are left
    /// alone without error, as the RFC asks.
    /// - Returns: whether a live token of the client was revoked.
    @discardableResult
    public func revokeToken(_ token: String, of client: OAuthClient) async throws -> Bool {
        try await revokeToken(token, clientRowID: client.id)
    }

    /// Revokes one token of the client whose row id is `clientRowID` (a console session's, at sign-out).
    /// - Returns: whether a live token of the client was revoked.
    @discardableResult
    public func revokeToken(_ token: String, clientRowID: UUID) async throws -> Bool {
        let hash = Secrets.hash(token)
        let at = now()
        return try await database.withTransaction { connection in
            let rows = try connection.query(
                """
                UPDATE hookline.access_tokens SET revoked_at = \(at)
                WHERE token_hash = \(hash) AND client_id = \(clientRowID) AND revoked_at IS NULL
                """)
            if rows.affectedRows > 0 {
                try connection.notify(AuthNotifications.channel, payload: AuthNotifications.tokenRevoked(hash))
            }
            return rows.affectedRows > 0
        }
    }

    static func client(_ row: PostgresRow) throws -> OAuthClient {
        let (id, clientID, accountID, scope, description, lifetime, createdAt, revokedAt) = try row.decode(
            (UUID, String, UUID?, String, String, Int, Date, Date?).self)
        guard let scope = OAuthScope(rawValue: scope) else {
            throw PostgresError.decoding("unknown scope \(scope)")
        }
        return OAuthClient(
            id: id, clientID: clientID, accountID: accountID, scope: scope, description: description,
            tokenLifetimeSeconds: lifetime, createdAt: createdAt, revokedAt: revokedAt)
    }
}
