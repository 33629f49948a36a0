import Foundation

/// `Authorization: Basic …` for OAuth clients: base64 of `form-urlencoded(id):form-urlencoded(secret)`
/// (RFC 6749 §2.3.1).
public struct BasicCredentials: Sendable, Equatable {
    public var username: String
    public var password: String

    /// Whether the header uses the Basic scheme at all.
    public static func isBasic(_ header: String) -> Bool {
        header.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("basic")
    }

    /// Parses the header; `nil` when it is not Basic or is malformed.
    public init?(header: String) {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " "), trimmed[..<space].lowercased() == "basic" else { return nil }
        let encoded = trimmed[space...].trimmingCharacters(in: .whitespaces)
        // The first `:` byte ends the id (RFC 7617): the first `:` character would be missed after a character
        // that joins the next one (U+0600, a prefixed concatenation mark, say).
        guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8),
            let colon = text.utf8.firstIndex(of: UInt8(ascii: ":"))
        else { return nil }
        guard let username = FormBody.decode(text[..<colon]),
            let password = FormBody.decode(text[text.utf8.index(after: colon)...]),
            !username.isEmpty, !password.isEmpty
        else { return nil }
        self.username = username
        self.password = password
    }
}
