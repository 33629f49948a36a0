import Foundation
import Postgres

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
        if payload.hasPrefix("token:"), let hash = Data(hex: String(payload.dropFirst(6))) {
            return .tokenRevoked(hash)
        }
        if payload.hasPrefix("client:"), let id = UUID(uuidString: String(payload.dropFirst(7))) {
            return .clientRevoked(id)
        }
        return nil
    }
}

extension Data {
    var hexString: String { map { String(format: "%02x", $0) }.joined() }

    init?(hex: String) {
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
