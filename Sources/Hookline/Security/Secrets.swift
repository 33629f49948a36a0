import Crypto
import Foundation

/// Random credentials, their hashes, and constant-time comparison.
///
/// Client secrets and access tokens carry 256 random bits, so a single SHA-256 is the right hash for them:
/// there is nothing to brute-force that a slow password hash would protect.
public enum Secrets {
    /// `bytes` random bytes from the system's CSPRNG, base64url without padding, after `prefix`.
    ///
    /// The prefix (`hls_`, `hlt_`) makes leaked credentials easy to recognise for secret scanners.
    public static func generate(prefix: String, bytes: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<bytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return prefix + base64URL(random)
    }

    /// The SHA-256 of a credential's UTF-8 text: what the database stores instead of the credential.
    public static func hash(_ credential: String) -> Data {
        Data(SHA256.hash(data: Data(credential.utf8)))
    }

    /// Compares two byte strings in time that depends only on their lengths.
    public static func constantTimeEquals(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    /// Base64url (RFC 4648 §5) without padding.
    public static func base64URL<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
