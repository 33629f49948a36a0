import Crypto
import Foundation

/// Verifies webhook signatures for the HMAC schemes and finds a delivery's idempotency key.
///
/// Every comparison is of MAC bytes in constant time; a signature that does not decode is simply wrong.
public enum SignatureCheck {
    /// Why a delivery was refused.
    public enum Refusal: String, Error, Sendable {
        case missingSignature = "the signature header is missing"
        case badSignature = "the signature does not match"
        case staleTimestamp = "the signature timestamp is too old or too far ahead"
        case misconfigured = "the webhook's signing settings are incomplete"
    }

    /// Signed timestamps may be this far from now, either way.
    public static let tolerance: TimeInterval = 300

    /// Checks a delivery. `headers` maps lowercased names to values. After a rotation, a signature made with
    /// the previous secret passes too while its grace period lasts.
    /// - Returns: `nil` when the signature is right (or the scheme signs nothing), else why not.
    public static func check(
        scheme: WebhookAuthScheme, settings: WebhookAuthSettings, headers: [String: String],
        body: some DataProtocol, now: Date
    ) -> Refusal? {
        let secrets = settings.secrets(at: now)
        var refusal = check(scheme, secret: secrets.first, settings, headers, body, now)
        for secret in secrets.dropFirst() where refusal == .badSignature {
            refusal = check(scheme, secret: secret, settings, headers, body, now)
        }
        return refusal
    }

    /// Checks a delivery against one secret.
    private static func check(
        _ scheme: WebhookAuthScheme, secret: String?, _ settings: WebhookAuthSettings, _ headers: [String: String],
        _ body: some DataProtocol, _ now: Date
    ) -> Refusal? {
        switch scheme {
        case .none, .bearer:
            return nil
        case .github:
            guard let secret else { return .misconfigured }
            guard let header = headers["x-hub-signature-256"] else { return .missingSignature }
            guard header.hasPrefix("sha256="), let presented = Data(hexEncoded: String(header.dropFirst(7))) else {
                return .badSignature
            }
            let expected = hmacSHA256(key: Data(secret.utf8), message: body)
            return Secrets.constantTimeEquals(presented, expected) ? nil : .badSignature
        case .stripe:
            guard let secret else { return .misconfigured }
            guard let header = headers["stripe-signature"] else { return .missingSignature }
            var timestamp: String?
            var signatures: [Data] = []
            // Split at `,` and `=` bytes: split at characters, a character that joins the next one (a prefixed
            // concatenation mark before a comma, say) would hide the signature behind it.
            for part in header.utf8.split(separator: UInt8(ascii: ",")) {
                let pair = part.split(separator: UInt8(ascii: "="), maxSplits: 1)
                    .map { Substring($0).trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2 else { continue }
                if pair[0] == "t" { timestamp = pair[1] }
                if pair[0] == "v1", let signature = Data(hexEncoded: pair[1]) { signatures.append(signature) }
            }
            guard let timestamp, let seconds = Int(timestamp) else { return .badSignature }
            guard abs(now.timeIntervalSince1970 - Double(seconds)) <= tolerance else { return .staleTimestamp }
            let expected = hmacSHA256(key: Data(secret.utf8), prefix: Array("\(timestamp).".utf8), message: body)
            return signatures.contains { Secrets.constantTimeEquals($0, expected) } ? nil : .badSignature
        case .standardWebhooks:
            guard let secret, let key = standardWebhooksKey(secret) else { return .misconfigured }
            guard let id = headers["webhook-id"], let timestamp = headers["webhook-timestamp"],
                let header = headers["webhook-signature"]
            else { return .missingSignature }
            guard let seconds = Int(timestamp) else { return .badSignature }
            guard abs(now.timeIntervalSince1970 - Double(seconds)) <= tolerance else { return .staleTimestamp }
            let expected = hmacSHA256(key: key, prefix: Array("\(id).\(timestamp).".utf8), message: body)
            let matches = header.utf8.split(separator: UInt8(ascii: " ")).contains { bytes in
                let entry = Substring(bytes)
                guard entry.hasPrefix("v1,"), let signature = Data(base64Encoded: String(entry.dropFirst(3))) else {
                    return false
                }
                return Secrets.constantTimeEquals(signature, expected)
            }
            return matches ? nil : .badSignature
        case .hmac:
            guard let secret, let name = settings.header?.lowercased() else { return .misconfigured }
            guard var presented = headers[name] else { return .missingSignature }
            let algorithm = settings.algorithm ?? "sha256"
            if presented.hasPrefix("\(algorithm)=") { presented.removeFirst(algorithm.count + 1) }
            let decoded =
                settings.encoding == "base64" ? Data(base64Encoded: presented) : Data(hexEncoded: presented)
            guard let signature = decoded else { return .badSignature }
            let key = SymmetricKey(data: Data(secret.utf8))
            let expected: Data
            switch algorithm {
            case "sha256": expected = Data(HMAC<SHA256>.authenticationCode(for: body, using: key))
            case "sha512": expected = Data(HMAC<SHA512>.authenticationCode(for: body, using: key))
            default: return .misconfigured
            }
            return Secrets.constantTimeEquals(signature, expected) ? nil : .badSignature
        }
    }

    /// The delivery's idempotency key, which decides repeats.
    ///
    /// A delivery id the signature covers comes first: `webhook-id` under Standard Webhooks, the event's `id`
    /// in a Stripe-signed body. Only then the unsigned headers: `Idempotency-Key`, `webhook-id`,
    /// `X-GitHub-Delivery`. So replaying a signed delivery with a fresh `Idempotency-Key` is still a repeat.
    /// Keys are bounded in bytes: one over `maxKeyBytes` of UTF-8 is replaced by `sha256:` and the hex of its
    /// SHA-256, so any key can be stored and two long keys never collide by sharing a prefix.
    public static func idempotencyKey(
        scheme: WebhookAuthScheme, headers: [String: String], body: some DataProtocol,
        maxKeyBytes: Int = defaultMaxKeyBytes
    ) -> String? {
        let signed: String? =
            switch scheme {
            case .standardWebhooks: headers["webhook-id"]
            case .stripe: stripeEventID(body)
            default: nil
            }
        let candidates = [signed, headers["idempotency-key"], headers["webhook-id"], headers["x-github-delivery"]]
        guard let key = candidates.lazy.compactMap({ $0 }).first(where: { !$0.isEmpty }) else { return nil }
        return bounded(key, maxBytes: maxKeyBytes)
    }

    /// The longest idempotency key kept as it is, in bytes of UTF-8 (`hookline serve --max-idempotency-key-bytes`).
    public static let defaultMaxKeyBytes = 255

    /// `key` as stored: as it is, unless it is longer than `maxBytes` or holds U+0000, which PostgreSQL's text
    /// refuses (a body's event id can: `"evt_\u0000"`), and which would fail the whole batch it is in.
    static func bounded(_ key: String, maxBytes: Int) -> String {
        key.utf8.count <= maxBytes && !key.utf8.contains(0)
            ? key : "sha256:" + Data(SHA256.hash(data: Data(key.utf8))).hexString
    }

    /// The `id` of a Stripe event body, if it is a JSON object with a non-empty string `id`: found by a scan,
    /// not a parse of the whole body (``JSONMemberScanner``).
    private static func stripeEventID(_ body: some DataProtocol) -> String? {
        guard let id = JSONMemberScanner.string(named: "id", in: body as? Data ?? Data(body)), !id.isEmpty else {
            return nil
        }
        return id
    }

    /// The headers that carry credentials or signatures: never stored with a job.
    public static func isCredentialHeader(_ lowercasedName: String, settings: WebhookAuthSettings) -> Bool {
        [
            "authorization", "proxy-authorization", "cookie", "webhook-signature", "x-hub-signature",
            "x-hub-signature-256", "stripe-signature",
        ].contains(lowercasedName)
            || lowercasedName == settings.header?.lowercased()
    }

    /// A new signing secret for a scheme: `whsec_` and base64 for Standard Webhooks (as its libraries expect),
    /// `whsec_` and base64url for Stripe, 64 hex digits otherwise.
    public static func generateSecret(for scheme: WebhookAuthScheme) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        switch scheme {
        case .standardWebhooks: return "whsec_" + Data(bytes).base64EncodedString()
        case .stripe: return "whsec_" + Secrets.base64URL(bytes)
        default: return Data(bytes).hexString
        }
    }

    /// The HMAC key of a Standard Webhooks secret: the base64 after `whsec_`.
    static func standardWebhooksKey(_ secret: String) -> Data? {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        // An empty key is none: anyone could sign with it.
        return Data(base64Encoded: encoded).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The HMAC-SHA256 of `prefix` followed by `message`, without joining them (a body can be megabytes).
    static func hmacSHA256(key: Data, prefix: [UInt8] = [], message: some DataProtocol) -> Data {
        var code = HMAC<SHA256>(key: SymmetricKey(data: key))
        code.update(data: prefix)
        code.update(data: message)
        return Data(code.finalize())
    }
}
