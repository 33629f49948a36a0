import Foundation

/// A webhook endpoint: `POST /webhooks/{id}`.
public struct Webhook: Sendable, Hashable, Encodable {
    /// A random UUID (122 random bits): the URL is unguessable.
    public var id: UUID
    public var accountID: UUID
    public var cycleID: UUID
    public var scheme: WebhookAuthScheme
    /// The scheme's settings; never printed except the secret right after creation.
    public var settings: WebhookAuthSettings
    /// Networks allowed to call; empty allows any.
    public var allowIPs: [CIDR]
    public var createdAt: Date

    /// Until when the secret before the last rotation is still accepted; nil when none is.
    public var previousSecretExpiresAt: Date? {
        settings.previousSecretExpiresAt.map { Date(timeIntervalSince1970: Double($0)) }
    }

    /// The path to POST deliveries to.
    public var urlPath: String { "/webhooks/\(id.lowercased)" }

    enum CodingKeys: String, CodingKey {
        case id, url, auth, header, algorithm, encoding
        case accountID = "account_id"
        case cycleID = "cycle_id"
        case allowIPs = "allow_ips"
        case createdAt = "created_at"
        case previousSecretExpiresAt = "previous_secret_expires_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(urlPath, forKey: .url)
        try container.encode(accountID, forKey: .accountID)
        try container.encode(cycleID, forKey: .cycleID)
        try container.encode(scheme.rawValue, forKey: .auth)
        try container.encodeIfPresent(settings.header, forKey: .header)
        try container.encodeIfPresent(settings.algorithm, forKey: .algorithm)
        try container.encodeIfPresent(settings.encoding, forKey: .encoding)
        try container.encode(allowIPs.map(\.description), forKey: .allowIPs)
        try container.encodeIfPresent(previousSecretExpiresAt, forKey: .previousSecretExpiresAt)
        try container.encode(createdAt, forKey: .createdAt)
    }
}
