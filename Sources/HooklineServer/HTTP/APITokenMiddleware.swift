import Hookline
import HooklineAPI
import Hummingbird

/// Admits only requests that carry a valid console token (scope `api`, tied to no account), and notes its
/// client in the context (``HooklineRequestContext/apiClient``); any other request is answered 401 with the
/// RFC 6750 challenge and a problem document before its route runs.
///
/// Put it on a route group: every route added to the group after it is protected.
struct APITokenMiddleware: RouterMiddleware {
    let verifier: TokenVerifier

    func handle(_ request: Request, context: HooklineRequestContext, next: NextResponder) async throws -> Response {
        let verdict: TokenVerifier.Verdict
        do {
            verdict = try await verifier.verify(
                authorization: request.headers[.authorization], scope: .api, account: nil)
        } catch {
            // Not a verdict: the token could not be looked up.
            context.logger.error("admin API: database unavailable", metadata: ["error": "\(error)"])
            throw ProblemResponse(.databaseUnavailable)
        }
        switch verdict {
        case .valid(let grant):
            var context = context
            context.apiClient = grant.clientRowID
            return try await next(request, context)
        case .rejected(let rejection):
            throw ProblemResponse(
                Problem(
                    .unauthorized, rejection.errorDescription ?? "a console-level bearer token is required",
                    headers: [.wwwAuthenticate: BearerChallenge(rejection: rejection).challenge]))
        }
    }
}
