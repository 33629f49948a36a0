import Hookline
import Hummingbird

/// The checks of `POST /webhooks/{id}` that come before its body is read (``WebhookIntake/admit(_:headers:clientAddress:)``):
/// puts the webhook found in the request context (``HooklineRequestContext/webhook``) for the route after it.
struct WebhookAdmissionMiddleware: RouterMiddleware {
    let intake: WebhookIntake

    func handle(_ request: Request, context: HooklineRequestContext, next: NextResponder) async throws -> Response {
        let webhook = try await intake.admit(context.parameters.get("id") ?? "", headers: request.headers) {
            context.clientAddress(of: request, trustedProxies: intake.settings.trustedProxies)
        }
        var context = context
        context.webhook = webhook
        return try await next(request, context)
    }
}

extension HooklineRequestContext {
    /// The webhook ``WebhookAdmissionMiddleware`` found. Only what runs behind that middleware may ask: anywhere
    /// else it is a programming error, answered 500.
    func lookedUpWebhook() throws -> Webhook {
        guard let webhook else {
            assertionFailure("a webhook route or middleware runs without WebhookAdmissionMiddleware in front of it")
            throw HTTPError(.internalServerError)
        }
        return webhook
    }
}
