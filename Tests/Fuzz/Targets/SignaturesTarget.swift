import Crypto
import Foundation
import Hookline

extension FuzzTarget {
    /// The signature headers of Stripe, Standard Webhooks, GitHub and generic HMAC webhooks, and the idempotency
    /// key. Input: options (bits 0–1 the scheme, 2 SHA-512, 3 base64, 4–6 which idempotency headers are sent),
    /// then the signature header, a timestamp or delivery id, and the body.
    ///
    /// Properties: nothing crashes; the fuzzed header alone is never accepted (nobody can forge the MAC); a
    /// delivery signed as the provider signs it is accepted even with the fuzzed text as an extra entry before
    /// the real signature, and refused once its body changes; the idempotency key is a header's value, or the
    /// Stripe event's id, or, past 255 bytes or holding U+0000, its hash.
    static let signatures = FuzzTarget(name: "signatures") { bytes in
        let input = FuzzInput(bytes, fields: 3)
        let fuzzed = input.text(0)
        let detail = input.text(1)
        let body = input.fields[2]
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let secret = "whsec_" + Data("a signing secret of 32 bytes....".utf8).base64EncodedString()
        let scheme: WebhookAuthScheme = [.stripe, .standardWebhooks, .hmac, .github][Int(input.options & 3)]
        let algorithm = input.bit(2) ? "sha512" : "sha256"
        let encoding = input.bit(3) ? "base64" : "hex"
        let settings = WebhookAuthSettings(
            secret: secret, header: "X-Signature", algorithm: scheme == .hmac ? algorithm : nil,
            encoding: scheme == .hmac ? encoding : nil)
        // A timestamp the check takes as now, in the fuzzer's spelling when it has one.
        let timestamp =
            Int(detail).map { abs(Double($0) - now.timeIntervalSince1970) <= 60 } == true ? detail : "1700000000"
        let signed: [String: String]
        let header: String
        let signature: String
        switch scheme {
        case .stripe:
            header = "stripe-signature"
            signature = mac(secret: Data(secret.utf8), Array("\(timestamp).".utf8) + body).hexString
            signed = [header: "\(fuzzed),t=\(timestamp),v1=\(signature)"]
        case .standardWebhooks:
            header = "webhook-signature"
            let key = Data(base64Encoded: String(secret.dropFirst(6)))!
            signature = mac(secret: key, Array("\(detail).\(timestamp).".utf8) + body).base64EncodedString()
            signed = ["webhook-id": detail, "webhook-timestamp": timestamp, header: "\(fuzzed) v1,\(signature)"]
        case .github:
            header = "x-hub-signature-256"
            signature = mac(secret: Data(secret.utf8), body).hexString
            signed = [header: "sha256=" + signature]
        default:
            header = "x-signature"
            let code =
                algorithm == "sha512"
                ? Data(HMAC<SHA512>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))))
                : mac(secret: Data(secret.utf8), body)
            signature = encoding == "base64" ? code.base64EncodedString() : code.hexString
            signed = [header: (input.bit(4) ? "\(algorithm)=" : "") + signature]
        }
        func check(_ headers: [String: String], _ body: [UInt8]) -> SignatureCheck.Refusal? {
            SignatureCheck.check(scheme: scheme, settings: settings, headers: headers, body: body, now: now)
        }
        var forged = signed
        forged[header] = fuzzed
        if check(forged, body) == nil, !fuzzed.lowercased().contains(signature.lowercased()) {
            return "accepted the fuzzed header \(fuzzed.debugDescription) for \(scheme)"
        }
        if let refusal = check(signed, body) {
            return "refused a delivery signed as \(scheme) signs it (\(refusal)): \(signed)"
        }
        if check(signed, body + [0]) == nil { return "accepted a \(scheme) delivery whose body changed" }
        return idempotencyProblem(input: input, scheme: scheme, body: body)
    }

    private static func mac(secret: Data, _ message: [UInt8]) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
    }

    private static func idempotencyProblem(input: FuzzInput, scheme: WebhookAuthScheme, body: [UInt8]) -> String? {
        var headers: [String: String] = [:]
        let names = ["idempotency-key", "webhook-id", "x-github-delivery"]
        for (index, name) in names.enumerated() where input.bit(4 + index) { headers[name] = input.text(index) }
        let key = SignatureCheck.idempotencyKey(scheme: scheme, headers: headers, body: body)
        if let key, key.utf8.count > 255 { return "an idempotency key of \(key.utf8.count) bytes" }
        // A signed delivery id decides first; the headers only when the scheme signs none.
        let signed = scheme == .standardWebhooks || scheme == .stripe
        let first = names.lazy.compactMap({ headers[$0] }).first(where: { !$0.isEmpty })
        if !signed, let first {
            // Kept as it is when PostgreSQL's text can store it: 255 bytes at most, and no U+0000.
            let expected =
                first.utf8.count <= 255 && !first.utf8.contains(0)
                ? first : "sha256:" + Data(SHA256.hash(data: Data(first.utf8))).hexString
            return key == expected ? nil : "the idempotency key is not the header's value (or its hash)"
        }
        if key != nil, first == nil, scheme != .stripe { return "an idempotency key without a header" }
        return nil
    }
}
