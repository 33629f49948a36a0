import HTTPTypes
import Hookline
import Hummingbird

/// Refuses a console POST that a page of another origin sent (403), before anything else reads it.
///
/// Browsers say where a request comes from: `Sec-Fetch-Site` (Fetch Metadata) and `Origin`. A request that
/// says `cross-site` or `same-site`, or whose `Origin` is not this console's own, is refused; one with
/// neither header comes from no browser that could be tricked into sending it. This is the first of two
/// guards: signed-in actions also need the session's form value (``ConsoleSession/csrf``), and the cookie is
/// `SameSite=Strict`.
struct ConsoleOriginCheck: RouterMiddleware {
    let transport: ConsoleTransport

    func handle(_ request: Request, context: HooklineRequestContext, next: NextResponder) async throws -> Response {
        if request.method != .get, request.method != .head, !isSameOrigin(request, context) {
            throw ConsolePageError.crossOrigin
        }
        return try await next(request, context)
    }

    func isSameOrigin(_ request: Request, _ context: HooklineRequestContext) -> Bool {
        if let site = request.headers[.secFetchSite]?.lowercased(), site != "same-origin", site != "none" {
            return false
        }
        guard let origin = request.headers[.origin] else { return true }
        return transport.origins(of: request, context).contains(origin.lowercased())
    }
}

extension HTTPField.Name {
    /// `Sec-Fetch-Site`: how the page that made a request relates to its target (Fetch Metadata).
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}
