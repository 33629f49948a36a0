import Foundation

/// A set of OAuth 2.0 client credentials. The secret is never kept: only its hash, in the database.
public struct OAuthClient: Sendable, Codable, Hashable {
    /// The row's id (internal; tokens refer to it).
    public var id: UUID
    /// The public client identifier that callers send.
    public var clientID: String
    /// The owning account; `nil` for a console-level (admin API) client.
    public var accountID: UUID?
    public var scope: OAuthScope
    public var description: String
    /// The lifetime of the tokens this client obtains.
    public var tokenLifetimeSeconds: Int
    public var createdAt: Date
    public var revokedAt: Date?

    /// 14 days, the default lifetime of a client's tokens.
    public static let defaultTokenLifetimeSeconds = 1_209_600

    enum CodingKeys: String, CodingKey {
        case id, scope, description
        case clientID = "client_id"
        case accountID = "account_id"
        case tokenLifetimeSeconds = "token_lifetime_seconds"
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
    }
}

/// A client just created, with its secret: the only time the secret exists outside the caller's hands.
public struct CreatedOAuthClient: Sendable {
    public var client: OAuthClient
    public var clientSecret: String
}

/// An access token just issued: the only time the token exists outside the caller's hands.
public struct IssuedToken: Sendable, Hashable {
    public var accessToken: String
    public var expiresIn: Int
    public var expiresAt: Date
    public var scope: OAuthScope
    public var clientID: String
}
