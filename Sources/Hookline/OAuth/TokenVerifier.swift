import Foundation
import Logging
import Postgres

/// Decides whether a bearer token may be used on a route: the check every protected route makes.
///
/// Built for the ingress's hot path, where a database round trip per request would cost the most: a token's record is read from the database the
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
            case .wrongScope, .otherAccount: "the access token is not valid for this resource"
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

    private let database: PostgresClient
    private let cache: NotifiedCache<Data, Record>
    private let logger: Logger
    /// The clock expiry is checked against.
    public let now: @Sendable () -> Date

    /// Token records cached at most (`hookline serve --cache-entries`).
    public static let defaultMaxEntries = 100_000

    public init(
        database: PostgresClient, now: @escaping @Sendable () -> Date = { Date() },
        maxEntries: Int = defaultMaxEntries, timeToLive: Duration = NotifiedCacheDefaults.timeToLive,
        logger: Logger = Logger(label: "hookline.tokens")
    ) {
        self.database = database
        self.now = now
        self.cache = NotifiedCache(maxEntries: maxEntries, timeToLive: timeToLive)
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
    ///
    /// A token that cannot be one of ours (not `hlt_` and 43 base64url characters) is unknown at once: no
    /// database read, nothing cached.
    public func verify(token: String, scope: OAuthScope, account: UUID?) async throws -> Verdict {
        guard Secrets.isTokenShaped(token) else { return .rejected(.unknown) }
        let hash = Secrets.hash(token)
        let record = try await cache.value(for: hash) { try await load(hash) }
        return decide(record, scope: scope, account: account)
    }

    /// The verdict on the `Authorization` header if it needs no database read (no token, a malformed or
    /// impossible one, or one whose record is cached); `nil` when only ``verify(authorization:scope:account:)``
    /// can tell.
    public func cachedVerdict(authorization: String?, scope: OAuthScope, account: UUID?) -> Verdict? {
        switch Self.bearerToken(from: authorization) {
        case .none: return .rejected(.missing)
        case .some(.none): return .rejected(.malformed)
        case .some(.some(let token)):
            guard Secrets.isTokenShaped(token) else { return .rejected(.unknown) }
            guard let record = cache.cachedValue(for: Secrets.hash(token)) else { return nil }
            return decide(record, scope: scope, account: account)
        }
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

    /// A token's record; revoked when the token or its client is (belt and braces: issuing a token already
    /// excludes a concurrent revocation of its client).
    private func load(_ hash: Data) async throws -> Record? {
        let rows = try await database.query(
            """
            SELECT t.client_id, t.account_id, t.scope, t.expires_at,
                   t.revoked_at IS NOT NULL OR c.revoked_at IS NOT NULL
            FROM hookline.access_tokens t JOIN hookline.oauth_clients c ON c.id = t.client_id
            WHERE t.token_hash = \(hash)
            """)
        guard let row = rows.first else { return nil }
        let (client, account, scope, expiresAt, revoked) = try row.decode((UUID, UUID?, String, Date, Bool).self)
        guard let scope = OAuthScope(rawValue: scope) else { return nil }
        return Record(clientRowID: client, accountID: account, scope: scope, expiresAt: expiresAt, revoked: revoked)
    }

    // MARK: Revocations

    /// Drops a token this instance has just revoked from the cache, so that it stops working here at once
    /// rather than when the revocation's notification comes back over LISTEN (other instances wait for it).
    public func forget(token: String) {
        cache.evict(Secrets.hash(token))
    }

    /// Applies an event of the LISTEN connection on ``AuthNotifications/channel``.
    public func handle(_ event: PostgresListener.Event) {
        if case .disconnected(let error) = event {
            logger.warning(
                "token revocations: not listening; verifying against the database",
                metadata: [
                    "error": "\(error)"
                ])
        }
        guard let notification = cache.apply(event), notification.channel == AuthNotifications.channel,
            let message = AuthNotifications.parse(notification.payload)
        else { return }
        switch message {
        case .tokenRevoked(let hash): cache.evict(hash)
        case .clientRevoked(let client): cache.evict { $1?.clientRowID == client }
        }
    }

    /// A listener that feeds only this verifier (the server's own listener also feeds its webhook cache).
    public func makeListener(connectionString: String) -> PostgresListener {
        PostgresListener(connectionString: connectionString, channels: [AuthNotifications.channel]) {
            [weak self] event in self?.handle(event)
        }
    }

    /// Whether cached records are in use (LISTEN is up).
    public var isListening: Bool { cache.isLive }

    /// How many token records are cached.
    public var cachedRecords: Int { cache.count }

    // MARK: The header

    /// The token of an `Authorization: Bearer …` header (RFC 6750 §2.1).
    ///
    /// `nil` when no bearer credentials came (no header, or another scheme); `.some(nil)` when the header
    /// says Bearer but its token is malformed.
    static func bearerToken(from header: String?) -> String?? {
        guard let header else { return nil }
        // Byte by byte: this runs for every webhook request, and Foundation's trimming and Character
        // properties cost more than the rest of the verification.
        var bytes = Array(header.utf8)[...]
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        while let first = bytes.first, isSpace(first) { bytes.removeFirst() }
        while let last = bytes.last, isSpace(last) { bytes.removeLast() }
        let scheme = bytes.prefix { !isSpace($0) }
        guard scheme.count == 6, zip(scheme, "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        var token = bytes.dropFirst(6)
        while let first = token.first, isSpace(first) { token.removeFirst() }
        guard !token.isEmpty, isB64Token(token) else { return .some(nil) }
        return .some(String(decoding: token, as: UTF8.self))
    }

    /// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
    static func isB64Token(_ token: ArraySlice<UInt8>) -> Bool {
        var body = token
        while body.last == UInt8(ascii: "=") { body.removeLast() }
        guard !body.isEmpty, token.count <= 4096 else { return false }
        return body.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"),
                UInt8(ascii: "/"):
                true
            default: false
            }
        }
    }
}
