import Crypto
import Foundation
import HTTPTypes

/// Signs deliveries the way each provider does, for the tests.
enum Signing {
    static func hmacSHA256(_ key: Data, _ message: String) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: key)))
    }

    static func hex(_ data: Data) -> String { data.map { String(format: "%02x", $0) }.joined() }

    static func standardWebhooks(secret: String, id: String, timestamp: Int, body: String) -> HTTPFields {
        let key = Data(base64Encoded: String(secret.dropFirst("whsec_".count)))!
        let signature = hmacSHA256(key, "\(id).\(timestamp).\(body)").base64EncodedString()
        return [
            HTTPField.Name("webhook-id")!: id, HTTPField.Name("webhook-timestamp")!: String(timestamp),
            HTTPField.Name("webhook-signature")!: "v1,bm90LXRoaXMtb25l v1,\(signature)",
        ]
    }

    static func github(secret: String, body: String, delivery: String) -> HTTPFields {
        [
            HTTPField.Name("X-Hub-Signature-256")!: "sha256=" + hex(hmacSHA256(Data(secret.utf8), body)),
            HTTPField.Name("X-GitHub-Delivery")!: delivery,
        ]
    }

    static func stripe(secret: String, timestamp: Int, body: String) -> HTTPFields {
        let signature = hex(hmacSHA256(Data(secret.utf8), "\(timestamp).\(body)"))
        return [HTTPField.Name("Stripe-Signature")!: "t=\(timestamp),v1=\(signature),v0=00"]
    }

    static func hmacSHA512Base64(secret: String, body: String) -> String {
        Data(HMAC<SHA512>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(secret.utf8))))
            .base64EncodedString()
    }
}
