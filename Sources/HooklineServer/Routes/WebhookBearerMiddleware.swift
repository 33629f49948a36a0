import Hookline
import Hummingbird

/// For a webhook of the `bearer` scheme, admits only a valid webhook token (scope `webhook`) of the webhook's
/// own account, and answers anything else with the RFC 6750 challenge (``BearerChallenge``). Webhooks of other
/// schemes pass: their signatures cover the body, so the route checks them once it has read it.
///
/// Runs behind ``WebhookLookupMiddleware``, which found the webhook.
struct WebhookBearerMiddleware: RouterMiddleware {
    let verifier: TokenVerifier

    func handle(
        _ request: Request, context: HooklineRequestContext,
        next: (Request, HooklineRequestContext) async throws -> Response
    ) async throws -> Response {
        let webhook = try context.lookedUpWebhook()
        if webhook.scheme == .bearer {
            let verdict: TokenVerifier.Verdict
            do {
                verdict = try await verifier.verify(
                    authorization: request.headers[.authorization], scope: .webhook, account: webhook.accountID)
            } catch {
                throw APIError.webhookUnavailable(error, context)
            }
            try BearerChallenge.check(verdict)
        }
        return try await next(request, context)
    }
}
