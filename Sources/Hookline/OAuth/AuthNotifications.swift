import Foundation

/// The NOTIFY channel through which revocations reach every running verifier.
///
/// Payloads: `token:<hex SHA-256 of the token>` when one token is revoked, `client:<client row id>` when a
/// client (and with it every token it holds) is revoked. Sent in the transaction that revokes, so they are
/// delivered exactly when the revocation commits.
public enum AuthNotifications {
    public static let channel = "hookline_auth"

    static func tokenRevoked(_ tokenHash: Data) -> String { "token:" + tokenHash.hexString }
    static func clientRevoked(_ clientRowID: UUID) -> String { "client:" + clientRowID.uuidString.lowercased() }

    /// A parsed payload.
    enum Message: Equatable {
        case tokenRevoked(Data)
        case clientRevoked(UUID)
    }

    static func parse(_ payload: String) -> Message? {
        if payload.hasPrefix("token:"), let hash = Data(hexEncoded: String(payload.dropFirst(6))) {
            return .tokenRevoked(hash)
        }
        if payload.hasPrefix("client:"), let id = UUID(uuidString: String(payload.dropFirst(7))) {
            return .clientRevoked(id)
        }
        return nil
    }
}
