import Foundation
import Hookline
import Hummingbird
import Logging

/// `POST /webhooks/{id}` through the router: authenticate, enqueue durably, answer 202 `{"job_id":…}` once the
/// job row is committed, or 200 with the first `job_id` for a repeated delivery.
///
/// Most deliveries never reach the router: ``WebhookChannelHandler`` answers them in the channel pipeline. What
/// it passes on (a request pipelined behind another route's, one that expects `100-continue`) comes here, and
/// both answer through the same ``WebhookIntake``.
struct WebhookRoutes: Sendable {
    let intake: WebhookIntake

    func register(on router: Router<HooklineRequestContext>) {
        router.group("/webhooks")
            .add(middleware: WebhookAdmissionMiddleware(intake: intake))
            .post("{id}") { request, context in try await receive(request, context) }
    }

    func receive(_ request: Request, _ context: HooklineRequestContext) async throws -> Response {
        // The body's bytes count against the ingress's buffer budget until the delivery is answered.
        return try await intake.bodyBudget.holding(
            request, maxBytes: intake.settings.maxBodyBytes, tooLarge: APIError.tooLarge, busy: APIError.busy
        ) { buffer in
            let body = Data(requestBody: buffer)
            buffer = ByteBuffer()
            // Admitted again now that the body has come, however long it took: a secret rotated, a token revoked
            // or the webhook deleted meanwhile refuses it, as it would a new request (the caches answer as a
            // rule: a change evicts what it changes).
            let webhook = try await intake.admit(context.parameters.get("id") ?? "", headers: request.headers) {
                context.clientAddress(of: request, trustedProxies: intake.settings.trustedProxies)
            }
            switch try await intake.store(webhook, headers: request.headers, body: body, receivedAt: context.receivedAt)
            {
            case .accepted(let jobID): return JSONResponse.jobID(jobID, status: .accepted)
            case .duplicate(let jobID): return JSONResponse.jobID(jobID, status: .ok)
            }
        }
    }
}
