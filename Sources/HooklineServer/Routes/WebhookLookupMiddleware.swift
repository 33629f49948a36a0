import Foundation
import Hookline
import Hummingbird

/// The first check of `POST /webhooks/{id}`: finds the webhook of the path's `{id}` and puts it in the request
/// context (``HooklineRequestContext/webhook``) for the middleware and route after it, and refuses callers
/// outside the webhook's IP allow-list.
///
/// 404 for an id that is not a UUID or names no live webhook; 403 for a client address (the one behind a trusted
/// proxy) outside a non-empty allow-list; 503 when the database cannot be asked.
struct WebhookLookupMiddleware: RouterMiddleware {
    let directory: WebhookDirectory
    /// Proxies whose `X-Forwarded-For` is believed when the allow-list is checked.
    let trustedProxies: [CIDR]

    func handle(
        _ request: Request, context: HooklineRequestContext,
        next: (Request, HooklineRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let id = context.parameters.get("id").flatMap({ UUID(canonical: $0) }) else {
            throw APIError.webhookNotFound
        }
        let found: Webhook?
        do {
            found = try await directory.webhook(id)
        } catch {
            throw APIError.webhookUnavailable(error, context)
        }
        guard let webhook = found else { throw APIError.webhookNotFound }
        if !webhook.allowIPs.isEmpty {
            guard let client = context.clientAddress(of: request, trustedProxies: trustedProxies),
                webhook.allowIPs.contains(where: { $0.contains(client) })
            else {
                throw APIError(.forbidden, "forbidden", "this address may not call this webhook")
            }
        }
        var context = context
        context.webhook = webhook
        return try await next(request, context)
    }
}

extension HooklineRequestContext {
    /// The webhook ``WebhookLookupMiddleware`` found. Only what runs behind that middleware may ask: anywhere
    /// else it is a programming error, answered 500.
    func lookedUpWebhook() throws -> Webhook {
        guard let webhook else {
            assertionFailure("a webhook route or middleware runs without WebhookLookupMiddleware in front of it")
            throw HTTPError(.internalServerError)
        }
        return webhook
    }
}
