import Hookline
import Hummingbird

/// Admits only requests that carry a valid console token (scope `api`, tied to no account); any other request
/// is answered with the RFC 6750 challenge (``BearerChallenge``) before its route runs.
///
/// Put it on a route group: every route added to the group after it is protected.
struct APITokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let verifier: TokenVerifier

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        // A database error is not a verdict: it propagates, and the router answers 500.
        let verdict = try await verifier.verify(
            authorization: request.headers[.authorization], scope: .api, account: nil)
        try BearerChallenge.check(verdict)
        return try await next(request, context)
    }
}
