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

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.lowercased, forKey: .id)
        try container.encode(clientID, forKey: .clientID)
        try container.encodeIfPresent(accountID?.lowercased, forKey: .accountID)
        try container.encode(scope, forKey: .scope)
        try container.encode(description, forKey: .description)
        try container.encode(tokenLifetimeSeconds, forKey: .tokenLifetimeSeconds)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encodeIfPresent(revokedAt, forKey: .revokedAt)
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
