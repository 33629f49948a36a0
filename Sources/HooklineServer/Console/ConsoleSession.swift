import Foundation
import HTTPTypes
import Hookline

/// A signed-in console user: the console token kept in the session cookie, and what it grants.
///
/// The cookie is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page sends it) and
/// `Path=/console`. Each form also carries ``csrf``, derived from the token: a page of another origin can
/// neither read it nor compute it, so an action must come from a page this console rendered.
struct ConsoleSession: Sendable {
    /// The cookie's name.
    static let cookieName = "hookline_console"

    let token: String
    let grant: TokenVerifier.Grant

    /// The anti-forgery value every form of this session carries.
    var csrf: String { Self.csrf(for: token) }

    static func csrf(for token: String) -> String { Secrets.derive(from: token, purpose: "hookline console csrf") }

    /// Whether `presented` is this session's anti-forgery value (compared in constant time).
    func accepts(csrf presented: String?) -> Bool {
        guard let presented else { return false }
        return Secrets.constantTimeEquals(Data(presented.utf8), Data(csrf.utf8))
    }

    /// The session cookie's value in a `Cookie` header, if there is one.
    static func token(in headers: HTTPFields) -> String? {
        for header in headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == cookieName {
                    let value = parts[1].trimmingCharacters(in: .whitespaces)
                    return Secrets.isTokenShaped(value) ? value : nil
                }
            }
        }
        return nil
    }

    /// `Set-Cookie` for a new session of `token`, living `seconds`.
    static func setCookie(_ token: String, seconds: Int, secure: Bool) -> String {
        "\(cookieName)=\(token); Path=/console; Max-Age=\(seconds); HttpOnly; SameSite=Strict"
            + (secure ? "; Secure" : "")
    }

    /// `Set-Cookie` that removes the session cookie.
    static func clearCookie(secure: Bool) -> String {
        "\(cookieName)=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }
}
