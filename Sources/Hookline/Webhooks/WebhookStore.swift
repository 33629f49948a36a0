import Foundation
import Postgres

/// Creates, lists, finds and deletes webhooks.
public struct WebhookStore: Sendable {
    public let database: PostgresClient

    public init(database: PostgresClient) { self.database = database }

    static let columns = """
        id, account_id, cycle_id, auth_scheme, auth_settings, allow_ips::text[], created_at
        """

    /// A webhook just created, with its signing secret when the scheme has one (shown this once).
    public struct Created: Sendable {
        public var webhook: Webhook
        public var secret: String?
    }

    /// Creates a webhook on one of the account's cycles.
    ///
    /// A signing scheme without `settings.secret` gets a generated one. `hmac` needs `settings.header`;
    /// its algorithm defaults to `sha256` and its encoding to `hex`.
    /// - Throws: ``HooklineError`` for bad settings or allow-list entries, or a cycle that is not the account's.
    public func create(
        account: UUID, cycle: UUID, scheme: WebhookAuthScheme, settings: WebhookAuthSettings = .init(),
        allowIPs: [String] = []
    ) async throws -> Created {
        var settings = settings
        let networks = try allowIPs.map { text -> CIDR in
            guard let network = CIDR(text) else {
                throw HooklineError.invalidField("allow_ips", "\(text) is not a CIDR")
            }
            return network
        }
        if scheme.usesSecret {
            if settings.secret == nil { settings.secret = SignatureCheck.generateSecret(for: scheme) }
            // An HMAC with an empty key is a signature anyone can make.
            if settings.secret?.isEmpty == true {
                throw HooklineError.invalidField("secret", "a signing secret cannot be empty (leave it out for one)")
            }
            if scheme == .standardWebhooks, SignatureCheck.standardWebhooksKey(settings.secret ?? "") == nil {
                throw HooklineError.invalidField(
                    "secret", "a Standard Webhooks secret is whsec_ followed by a non-empty base64 key")
            }
        } else if settings.secret != nil {
            throw HooklineError.invalidField("secret", "the \(scheme.rawValue) scheme takes no secret")
        }
        if scheme == .hmac {
            guard let header = settings.header, !header.isEmpty,
                header.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" })
            else {
                throw HooklineError.invalidField("header", "hmac needs the name of a header (letters, digits, dashes)")
            }
            settings.algorithm = settings.algorithm ?? "sha256"
            settings.encoding = settings.encoding ?? "hex"
            guard ["sha256", "sha512"].contains(settings.algorithm!) else {
                throw HooklineError.invalidField("algorithm", "sha256 or sha512")
            }
            guard ["hex", "base64"].contains(settings.encoding!) else {
                throw HooklineError.invalidField("encoding", "hex or base64")
            }
        } else if settings.header != nil || settings.algorithm != nil || settings.encoding != nil {
            throw HooklineError.invalidField("header", "header, algorithm and encoding belong to the hmac scheme")
        }
        let rows = try await database.query(
            """
            INSERT INTO hookline.webhooks (account_id, cycle_id, auth_scheme, auth_settings, allow_ips)
            SELECT c.account_id, c.id, \(scheme.rawValue), \(try PostgresJSON(encoding: settings)),
                   \(networks.map(\.description))::text[]::cidr[]
            FROM hookline.cycles c WHERE c.id = \(cycle) AND c.account_id = \(account)
            RETURNING \(unsafe: Self.columns)
            """)
        guard let row = rows.first else {
            throw HooklineError.notFound("no cycle \(cycle.lowercased) in account \(account.lowercased)")
        }
        return Created(webhook: try Self.webhook(row), secret: settings.secret)
    }

    /// One account's live webhooks, or every live webhook.
    public func list(account: UUID? = nil) async throws -> [Webhook] {
        try await database.query(
            """
            SELECT \(unsafe: Self.columns) FROM hookline.webhooks
            WHERE deleted_at IS NULL AND (\(account)::uuid IS NULL OR account_id = \(account))
            ORDER BY created_at, id
            """
        ).map(Self.webhook)
    }

    /// The live webhook with `id`, if any.
    public func find(_ id: UUID) async throws -> Webhook? {
        try await database.query(
            "SELECT \(unsafe: Self.columns) FROM hookline.webhooks WHERE id = \(id) AND deleted_at IS NULL"
        ).first.map(Self.webhook)
    }

    /// Gives a signing webhook a new generated secret; the current one stays accepted for `grace` seconds
    /// (what an earlier rotation kept is dropped). Every instance hears of it at once.
    /// - Returns: the webhook and its new secret.
    /// - Throws: ``HooklineError`` for an unknown webhook, one whose scheme signs nothing, or a grace period
    ///   outside 0…30 days.
    public func rotateSecret(_ id: UUID, grace: Int, now: Date = Date()) async throws -> Created {
        guard (0...Self.maxGraceSeconds).contains(grace) else {
            throw HooklineError.invalidField("grace_seconds", "0 to \(Self.maxGraceSeconds) seconds (30 days)")
        }
        return try await database.withTransaction { connection in
            let rows = try connection.query(
                """
                SELECT \(unsafe: Self.columns) FROM hookline.webhooks
                WHERE id = \(id) AND deleted_at IS NULL FOR UPDATE
                """)
            guard let row = rows.first else { throw HooklineError.notFound("no webhook \(id.lowercased)") }
            var webhook = try Self.webhook(row)
            guard webhook.scheme.usesSecret else {
                throw HooklineError.conflict("the \(webhook.scheme.rawValue) scheme has no signing secret")
            }
            // Without a grace period the old secret goes at once.
            webhook.settings.previousSecret = grace > 0 ? webhook.settings.secret : nil
            webhook.settings.previousSecretExpiresAt = grace > 0 ? Int(now.timeIntervalSince1970) + grace : nil
            let secret = SignatureCheck.generateSecret(for: webhook.scheme)
            webhook.settings.secret = secret
            try connection.query(
                """
                UPDATE hookline.webhooks SET auth_settings = \(try PostgresJSON(encoding: webhook.settings))
                WHERE id = \(id)
                """)
            try connection.notify(ConfigNotifications.channel, payload: ConfigNotifications.webhookChanged(id))
            return Created(webhook: webhook, secret: secret)
        }
    }

    /// The longest grace period of a rotated secret: 30 days.
    public static let maxGraceSeconds = 30 * 86_400

    /// Deletes a webhook: from the next request on (on every running instance) it answers 404. Its jobs
    /// stay and finish.
    public func delete(_ id: UUID) async throws {
        let deleted = try await ConfigNotifications.softDelete(
            id, from: "hookline.webhooks", announcing: ConfigNotifications.webhookChanged(id), on: database)
        guard deleted else { throw HooklineError.notFound("no webhook \(id.lowercased)") }
    }

    static func webhook(_ row: PostgresRow) throws -> Webhook {
        let (id, account, cycle, scheme, settings, allowIPs, createdAt) = try row.decode(
            (UUID, UUID, UUID, String, PostgresJSON, [String], Date).self)
        guard let scheme = WebhookAuthScheme(rawValue: scheme) else {
            throw PostgresError.decoding("unknown auth scheme \(scheme)")
        }
        return Webhook(
            id: id, accountID: account, cycleID: cycle, scheme: scheme,
            settings: try settings.decode(WebhookAuthSettings.self), allowIPs: allowIPs.compactMap(CIDR.init),
            createdAt: createdAt)
    }
}
