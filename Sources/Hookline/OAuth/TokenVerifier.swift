import Foundation
import Logging
import Postgres
import Synchronization

/// Decides whether a bearer token may be used on a route: the check every protected route makes.
///
/// Built for the ingress's hot path (DESIGN principle 2): a token's record is read from the database the
/// first time this instance sees it and kept in memory; after that, verifying is a hash and a dictionary
/// look-up. Revocations reach every instance through NOTIFY on ``AuthNotifications/channel`` and evict
/// the cached record at once. The cache is trusted only while the LISTEN connection is up: when it drops,
/// the cache is emptied and every verification reads the database until LISTEN is back, so a revocation can
/// never be missed. Expiry is checked against ``now`` on every call, exact to the second.
public final class TokenVerifier: Sendable {
    /// What a valid token grants.
    public struct Grant: Sendable, Hashable {
        /// The client's row id.
        public var clientRowID: UUID
        public var accountID: UUID?
        public var scope: OAuthScope
        public var expiresAt: Date
    }

    /// Why a request was refused, in RFC 6750 terms.
    public enum Rejection: String, Sendable, Hashable {
        /// No bearer credentials came: answer with a bare `WWW-Authenticate: Bearer realm="hookline"`.
        case missing
        /// The Authorization header is not a well-formed bearer token.
        case malformed
        /// No such token.
        case unknown
        case expired
        case revoked
        /// A token of another scope (a console token on a webhook, an account token on the admin API).
        case wrongScope
        /// A token of another account.
        case otherAccount

        /// The RFC 6750 `error` code: none when no credentials came, `invalid_token` otherwise.
        public var errorCode: String? { self == .missing ? nil : "invalid_token" }

        /// A short, public reason for `error_description`.
        public var errorDescription: String? {
            switch self {
            case .missing: nil
            case .malformed: "the Authorization header is not a bearer token"
            case .unknown, .revoked: "the access token is not valid"
            case .expired: "the access token expired"
            case .wrongScope: "the access token is not valid for this resource"
            case .otherAccount: "the access token is not valid for this resource"
            }
        }
    }

    /// The outcome of a verification.
    public enum Verdict: Sendable, Hashable {
        case valid(Grant)
        case rejected(Rejection)
    }

    /// A token's record as the database holds it.
    struct Record: Sendable {
        var clientRowID: UUID
        var accountID: UUID?
        var scope: OAuthScope
        var expiresAt: Date
        var revoked: Bool
    }

    private struct Cache {
        /// Whether LISTEN is up, so that cached records can be trusted.
        var live = false
        /// Bumped by every revocation and connection change; a read from the database is cached only if
        /// no bump happened while it was in flight.
        var generation: UInt64 = 0
        /// `nil` marks a hash that no token has (tokens are random: one that does not exist now never will).
        var records: [Data: Record?] = [:]
    }

    private let database: PostgresClient
    private let cache = Mutex(Cache())
    private let maxEntries: Int
    private let logger: Logger
    /// The clock expiry is checked against.
    public let now: @Sendable () -> Date

    public init(
        database: PostgresClient, now: @escaping @Sendable () -> Date = { Date() }, maxEntries: Int = 100_000,
        logger: Logger = Logger(label: "hookline.tokens")
    ) {
        self.database = database
        self.now = now
        self.maxEntries = maxEntries
        self.logger = logger
    }

    /// Verifies the `Authorization` header of a request to a route of `scope`, for a resource of `account`
    /// (`nil` for console-level routes).
    public func verify(authorization: String?, scope: OAuthScope, account: UUID?) async throws -> Verdict {
        switch Self.bearerToken(from: authorization) {
        case .none: return .rejected(.missing)
        case .some(.none): return .rejected(.malformed)
        case .some(.some(let token)): return try await verify(token: token, scope: scope, account: account)
        }
    }

    /// Verifies a bearer token for a route of `scope` and a resource of `account`.
    public func verify(token: String, scope: OAuthScope, account: UUID?) async throws -> Verdict {
        let hash = Secrets.hash(token)
        let cached = cache.withLock { cache -> (hit: Record??, generation: UInt64) in
            (cache.live ? cache.records[hash] : nil, cache.generation)
        }
        let record: Record?
        if let hit = cached.hit {
            record = hit
        } else {
            record = try await load(hash)
            cache.withLock { cache in
                guard cache.live, cache.generation == cached.generation else { return }
                if cache.records.count >= maxEntries { cache.records.removeAll(keepingCapacity: true) }
                cache.records[hash] = .some(record)
            }
        }
        return decide(record, scope: scope, account: account)
    }

    private func decide(_ record: Record?, scope: OAuthScope, account: UUID?) -> Verdict {
        guard let record else { return .rejected(.unknown) }
        if record.revoked { return .rejected(.revoked) }
        if now() >= record.expiresAt { return .rejected(.expired) }
        if record.scope != scope { return .rejected(.wrongScope) }
        if record.accountID != account { return .rejected(.otherAccount) }
        return .valid(
            Grant(
                clientRowID: record.clientRowID, accountID: record.accountID, scope: record.scope,
                expiresAt: record.expiresAt))
    }

    private func load(_ hash: Data) async throws -> Record? {
        let rows = try await database.query(
            """
            SELECT client_id, account_id, scope, expires_at, revoked_at IS NOT NULL
            FROM hookline.access_tokens WHERE token_hash = \(hash)
            """)
        guard let row = rows.first else { return nil }
        let (client, account, scope, expiresAt, revoked) = try row.decode((UUID, UUID?, String, Date, Bool).self)
        guard let scope = OAuthScope(rawValue: scope) else { return nil }
        return Record(clientRowID: client, accountID: account, scope: scope, expiresAt: expiresAt, revoked: revoked)
    }

    // MARK: Revocations

    /// Applies an event of the LISTEN connection on ``AuthNotifications/channel``.
    public func handle(_ event: PostgresListener.Event) {
        switch event {
        case .connected:
            // Whatever was revoked while we were not listening is unknown: start from an empty cache.
            cache.withLock { cache in
                cache.records.removeAll()
                cache.generation &+= 1
                cache.live = true
            }
            logger.debug("token revocations: listening")
        case .disconnected(let error):
            cache.withLock { cache in
                cache.live = false
                cache.records.removeAll()
                cache.generation &+= 1
            }
            logger.warning(
                "token revocations: not listening; verifying against the database",
                metadata: [
                    "error": "\(error)"
                ])
        case .notification(let notification):
            guard notification.channel == AuthNotifications.channel,
                let message = AuthNotifications.parse(notification.payload)
            else { return }
            cache.withLock { cache in
                cache.generation &+= 1
                switch message {
                case .tokenRevoked(let hash):
                    cache.records.removeValue(forKey: hash)
                case .clientRevoked(let client):
                    cache.records = cache.records.filter { $0.value?.clientRowID != client }
                }
            }
        }
    }

    /// A listener that feeds this verifier; start it with the server and stop it on shutdown.
    public func makeListener(connectionString: String) -> PostgresListener {
        PostgresListener(connectionString: connectionString, channels: [AuthNotifications.channel]) {
            [weak self] event in self?.handle(event)
        }
    }

    /// Whether cached records are in use (LISTEN is up).
    public var isListening: Bool { cache.withLock { $0.live } }

    // MARK: The header

    /// The token of an `Authorization: Bearer …` header (RFC 6750 §2.1).
    ///
    /// `nil` when no bearer credentials came (no header, or another scheme); `.some(nil)` when the header
    /// says Bearer but its token is malformed.
    static func bearerToken(from header: String?) -> String?? {
        guard let header else { return nil }
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " ") else {
            return trimmed.lowercased() == "bearer" ? .some(nil) : nil
        }
        guard trimmed[..<space].lowercased() == "bearer" else { return nil }
        let token = trimmed[space...].trimmingCharacters(in: .whitespaces)
        guard isB64Token(token) else { return .some(nil) }
        return .some(token)
    }

    /// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
    static func isB64Token(_ token: String) -> Bool {
        var body = Substring(token)
        while body.last == "=" { body.removeLast() }
        guard !body.isEmpty, token.count <= 4096 else { return false }
        return body.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._~+/".contains($0)) }
    }
}
