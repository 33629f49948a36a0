import Foundation
import HTTPTypes
import Hookline
import Hummingbird

/// How browsers reach the console: whether over HTTPS (for the cookie's `Secure`), and the origins its own
/// pages have (for ``ConsoleOriginCheck``).
///
/// Hookline serves plain HTTP; HTTPS means a proxy in front. The request counts as HTTPS when `--public-url`
/// is an `https://` URL, or when the peer is a trusted proxy (`--trusted-proxy`) that says
/// `X-Forwarded-Proto: https`.
struct ConsoleTransport: Sendable {
    let publicURL: String?
    let trustedProxies: [CIDR]

    func isSecure(_ request: Request, _ context: HooklineRequestContext) -> Bool {
        if let publicURL, publicURL.lowercased().hasPrefix("https://") { return true }
        guard let peer = context.remoteAddress?.ipAddress, trustedProxies.contains(where: { $0.contains(peer) })
        else { return false }
        return request.headers[.xForwardedProto]?.lowercased() == "https"
    }

    /// This console's origins, lowercased: the request's `Host` under either scheme, and `--public-url`'s.
    ///
    /// Either scheme, because the scheme the browser used is not always known here: a TLS-terminating proxy
    /// that is not a `--trusted-proxy`, or sends no `X-Forwarded-Proto`, makes an `https://` page's request
    /// look like plain HTTP. The host and port still have to be this console's own.
    func origins(of request: Request, _ context: HooklineRequestContext) -> Set<String> {
        var origins: Set<String> = []
        if let authority = request.head.authority?.lowercased() {
            origins.insert("http://\(authority)")
            origins.insert("https://\(authority)")
        }
        if let publicURL, let url = URL(string: publicURL), let scheme = url.scheme, let host = url.host {
            origins.insert("\(scheme)://\(host)\(url.port.map { ":\($0)" } ?? "")".lowercased())
        }
        return origins
    }
}

extension HTTPField.Name {
    /// `X-Forwarded-Proto`: the scheme a proxy was reached by.
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
}
