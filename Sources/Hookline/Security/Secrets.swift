import Crypto
import Foundation

/// Random credentials, their hashes, and constant-time comparison.
///
/// Client secrets and access tokens carry 256 random bits, so a single SHA-256 is the right hash for them:
/// there is nothing to brute-force that a slow password hash would protect.
public enum Secrets {
    /// Client IDs: `hlc_` and 15 random bytes (20 base64url characters).
    public static let clientIDPrefix = "hlc_"
    /// Client secrets: `hls_` and 32 random bytes.
    public static let secretPrefix = "hls_"
    /// Access tokens: `hlt_` and 32 random bytes (43 base64url characters).
    public static let tokenPrefix = "hlt_"
    static let clientIDBytes = 15
    static let secretBytes = 32
    static let tokenBytes = 32

    /// Whether `text` has the shape of a client ID this project issues. Anything else cannot be one of
    /// ours, so it is refused without a database look-up and without being remembered.
    public static func isClientIDShaped(_ text: String) -> Bool {
        hasShape(text, prefix: clientIDPrefix, bytes: clientIDBytes)
    }

    /// Whether `text` has the shape of an access token this project issues.
    public static func isTokenShaped(_ text: String) -> Bool {
        hasShape(text, prefix: tokenPrefix, bytes: tokenBytes)
    }

    /// `prefix` followed by exactly the base64url characters (no padding) of `bytes` bytes.
    private static func hasShape(_ text: String, prefix: String, bytes: Int) -> Bool {
        let length = prefix.utf8.count + (bytes * 8 + 5) / 6
        guard text.utf8.count == length, text.utf8.starts(with: prefix.utf8) else { return false }
        return text.utf8.dropFirst(prefix.utf8.count).allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                true
            default: false
            }
        }
    }

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

    /// A value derived from a credential for one purpose (HMAC-SHA-256 keyed by the credential), base64url:
    /// whoever holds the credential can compute it, nobody else can, and it tells nothing of the credential.
    public static func derive(from credential: String, purpose: String) -> String {
        base64URL(
            HMAC<SHA256>.authenticationCode(for: Data(purpose.utf8), using: SymmetricKey(data: Data(credential.utf8))))
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
