import Foundation

/// How a webhook authenticates its callers.
public enum WebhookAuthScheme: String, Sendable, Codable, CaseIterable {
    /// The unguessable URL is the secret.
    case none
    /// Account-level OAuth tokens of scope `webhook`, for the webhook's own account.
    case bearer
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    case standardWebhooks = "standard-webhooks"
    /// GitHub: `X-Hub-Signature-256: sha256=<hex>`.
    case github
    /// Stripe: `Stripe-Signature: t=…,v1=…`.
    case stripe
    /// A generic HMAC of the body in a header of your choice.
    case hmac

    /// Whether the scheme signs with a shared secret.
    public var usesSecret: Bool {
        switch self {
        case .none, .bearer: false
        case .standardWebhooks, .github, .stripe, .hmac: true
        }
    }
}

/// The settings of a webhook's scheme. Signing secrets must be kept as they are (an HMAC needs the key), so
/// they live in `webhooks.auth_settings`; access to that table is access to them.
public struct WebhookAuthSettings: Sendable, Codable, Hashable {
    /// The shared signing secret (`whsec_…` for Standard Webhooks).
    public var secret: String?
    /// `hmac`: the header that carries the signature.
    public var header: String?
    /// `hmac`: `sha256` or `sha512`.
    public var algorithm: String?
    /// `hmac`: `hex` or `base64`.
    public var encoding: String?
    /// The secret before the last rotation, still accepted until ``previousSecretExpiresAt``.
    public var previousSecret: String?
    /// When ``previousSecret`` stops being accepted, in seconds since 1970 (so that psql shows a number a
    /// reader can convert with `to_timestamp`).
    public var previousSecretExpiresAt: Int?

    public init(secret: String? = nil, header: String? = nil, algorithm: String? = nil, encoding: String? = nil) {
        self.secret = secret
        self.header = header
        self.algorithm = algorithm
        self.encoding = encoding
    }

    /// The secrets a signature may be made with at `now`: the current one, then the previous one while its
    /// grace period lasts. An empty one is none (anyone can sign with an empty key; webhooks stored with one
    /// before they were refused then refuse every delivery as misconfigured).
    public func secrets(at now: Date) -> [String] {
        var secrets = secret.map { [$0] } ?? []
        if let previousSecret, let until = previousSecretExpiresAt, now.timeIntervalSince1970 < Double(until) {
            secrets.append(previousSecret)
        }
        return secrets.filter { !$0.isEmpty }
    }

    enum CodingKeys: String, CodingKey {
        case secret, header, algorithm, encoding
        case previousSecret = "previous_secret"
        case previousSecretExpiresAt = "previous_secret_expires_at"
    }
}
