import Hookline
import Hummingbird

/// The checks of `POST /webhooks/{id}` that come before its body is read (``WebhookIntake/admit(_:headers:clientAddress:)``):
/// a refusal is answered before the body is read. The route admits the delivery again once its body has come
/// (``WebhookRoutes``), and stores it with the webhook that second admission found.
struct WebhookAdmissionMiddleware: RouterMiddleware {
    let intake: WebhookIntake

    func handle(_ request: Request, context: HooklineRequestContext, next: NextResponder) async throws -> Response {
        _ = try await intake.admit(context.parameters.get("id") ?? "", headers: request.headers) {
            context.clientAddress(of: request, trustedProxies: intake.settings.trustedProxies)
        }
        return try await next(request, context)
    }
}
