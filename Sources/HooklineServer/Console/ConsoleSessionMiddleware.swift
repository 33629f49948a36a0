import Foundation
import Hookline
import Hummingbird

/// Admits console requests that carry a live console session, and sends the rest to the sign-in form.
///
/// The session cookie's token must be a console token (scope `api`) that is neither expired nor revoked:
/// the same check as the admin API's, through the same cache. A page opened without one is redirected
/// (303) to `/console/signin?next=…`; a POST must also carry the session's anti-forgery value in its form
/// (``ConsoleSession/csrf``), or it is refused with 403.
struct ConsoleSessionMiddleware: RouterMiddleware {
    let verifier: TokenVerifier
    /// Form bodies larger than this are refused (``ServerSettings/maxConsoleFormBytes``).
    let maxFormBytes: Int

    func handle(_ request: Request, context: HooklineRequestContext, next: NextResponder) async throws -> Response {
        guard let token = ConsoleSession.token(in: request.headers) else { return Self.signIn(from: request) }
        let verdict: TokenVerifier.Verdict
        do {
            verdict = try await verifier.verify(token: token, scope: .api, account: nil)
        } catch {
            context.logger.error("console: database unavailable", metadata: ["error": "\(error)"])
            throw ConsolePageError.databaseUnavailable
        }
        guard case .valid(let grant) = verdict else { return Self.signIn(from: request) }
        var context = context
        let session = ConsoleSession(token: token, grant: grant)
        context.consoleSession = session
        var request = request
        do {
            if request.method != .get, request.method != .head {
                let form = try await ConsoleForm.read(&request, maxBytes: maxFormBytes)
                guard session.accepts(csrf: form["csrf"]) else { throw ConsolePageError.staleForm }
            }
            return try await next(request, context)
        } catch {
            // Rendered here, where the session is known, so that an error page keeps the signed-in layout
            // (the router would render a thrown error with the context from before this middleware).
            let page = ConsolePageError.from(error)
            if page.status.code >= 500 {
                context.logger.error(
                    "console: \(request.method) \(request.uri.path) failed", metadata: ["error": "\(error)"])
            }
            return ConsoleRenderer.shared.message(page.title, page.text, status: page.status, signedIn: session)
        }
    }

    /// 303 to the sign-in form, which comes back here after (only a GET's address is worth coming back to).
    static func signIn(from request: Request) -> Response {
        var location = "/console/signin"
        if request.method == .get, let next = ConsoleForm.safeNext(request.uri.description) {
            location += "?next=" + (next.addingPercentEncoding(withAllowedCharacters: .urlQueryValueAllowed) ?? "")
        }
        return Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }
}

extension CharacterSet {
    /// What may stay unescaped in a query value: unreserved characters and `/`.
    static let urlQueryValueAllowed = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")
}
