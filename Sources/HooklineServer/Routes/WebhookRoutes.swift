import Foundation
import HTTPTypes
import Hookline
import Hummingbird
import Logging
import Postgres

/// `POST /webhooks/{id}`: authenticate, enqueue durably, answer.
///
/// 202 `{"job_id":…}` once the job row is committed; 200 with the first `job_id` for a repeated delivery.
/// Refusals are thrown ``APIError``s and ``BearerChallenge``s, in this order, each check before the next:
/// 404 for an unknown or deleted webhook and 403 outside its IP allow-list (``WebhookLookupMiddleware``); 413
/// when the declared length is over the limit (``DeclaredLengthMiddleware``); 401 for a bearer webhook without
/// a valid token (``WebhookBearerMiddleware``); then, in the route, 413 while reading a body over the limit, 503
/// with `Retry-After` when the body buffer budget is spent, 401 for a bad signature, 429 over the account's
/// rate (only authenticated deliveries spend it), 400 for a delivery the database refuses on its own data, and
/// 503 with `Retry-After` when the database cannot commit.
struct WebhookRoutes: Sendable {
    let directory: WebhookDirectory
    let verifier: TokenVerifier
    let enqueuer: BatchingEnqueuer
    let bodyBudget: BodyBudget
    let settings: ServerSettings
    let rateLimiter: AccountRateLimiter?
    let now: @Sendable () -> Date

    func register(on router: Router<HooklineRequestContext>) {
        // Middleware runs in the order it is added: the checks keep the order given above.
        router.group("/webhooks")
            .add(middleware: WebhookLookupMiddleware(directory: directory, trustedProxies: settings.trustedProxies))
            .add(middleware: DeclaredLengthMiddleware(maxBytes: settings.maxBodyBytes))
            .add(middleware: WebhookBearerMiddleware(verifier: verifier))
            .post("{id}") { request, context in try await receive(request, context) }
    }

    func receive(_ request: Request, _ context: HooklineRequestContext) async throws -> Response {
        let webhook = try context.lookedUpWebhook()
        // The body's bytes count against the ingress's buffer budget until the delivery is answered.
        return try await bodyBudget.holding(
            request, maxBytes: settings.maxBodyBytes, tooLarge: APIError.tooLarge, busy: APIError.busy
        ) { buffer in
            let body = Array(buffer: buffer)
            buffer = ByteBuffer()
            return try await receive(request, context, webhook: webhook, body: body)
        }
    }

    private func receive(_ request: Request, _ context: HooklineRequestContext, webhook: Webhook, body: [UInt8])
        async throws -> Response
    {
        let headers = Self.headerMap(request.headers)
        if let refusal = SignatureCheck.check(
            scheme: webhook.scheme, settings: webhook.settings, headers: headers, body: body, now: now())
        {
            throw APIError(.unauthorized, "invalid_signature", refusal.rawValue)
        }
        // Only an authenticated delivery spends the account's budget: a stranger holding the URL of a signed
        // or bearer webhook cannot exhaust it with requests that fail authentication.
        if let rateLimiter, let wait = rateLimiter.take(webhook.accountID) {
            throw APIError(
                .tooManyRequests, "rate_limited", "too many requests for this account",
                headers: [.retryAfter: String(wait)])
        }
        let stored = headers.filter { !SignatureCheck.isCredentialHeader($0.key, settings: webhook.settings) }
        let delivery = Delivery(
            webhookID: webhook.id, accountID: webhook.accountID, cycleID: webhook.cycleID,
            headers: PostgresJSON(bytes: JSON.objectBytes(stored)), contentType: request.headers[.contentType],
            body: Data(body),
            idempotencyKey: SignatureCheck.idempotencyKey(scheme: webhook.scheme, headers: headers, body: body),
            receivedAt: context.receivedAt)
        do {
            switch try await enqueuer.enqueue(delivery) {
            case .accepted(let jobID): return JSONResponse.jobID(jobID, status: .accepted)
            case .duplicate(let jobID): return JSONResponse.jobID(jobID, status: .ok)
            }
        } catch let error as PostgresError where JobQueue.isUnstorable(error) {
            // Tried alone, this delivery still failed on its own data: retrying cannot help.
            context.logger.notice("webhook not stored: the server refused its data", metadata: ["error": "\(error)"])
            throw APIError(.badRequest, "invalid_delivery", "the delivery cannot be stored as sent")
        } catch {
            throw APIError.webhookUnavailable(error, context)
        }
    }

    /// Request headers by lowercased name, repeated fields joined with ", ".
    static func headerMap(_ fields: HTTPFields) -> [String: String] {
        var map: [String: String] = [:]
        for field in fields {
            let name = field.name.canonicalName
            map[name] = map[name].map { "\($0), \(field.value)" } ?? field.value
        }
        return map
    }
}

extension APIError {
    /// 404: the id is not a UUID, or names no live webhook.
    static let webhookNotFound = APIError(.notFound, "not_found", "no such webhook")

    /// 503 over the ingress's buffer budget (`--max-buffered-bytes`): the caller retries shortly.
    static let busy = APIError(
        .serviceUnavailable, "busy", "too many deliveries are being received at once; retry",
        headers: [.retryAfter: "1"])

    /// 503 when the database cannot be reached to find, authenticate or store a delivery: logs why, and asks
    /// the caller to retry.
    static func webhookUnavailable(_ error: any Error, _ context: HooklineRequestContext) -> APIError {
        context.logger.error("webhook not stored: database unavailable", metadata: ["error": "\(error)"])
        return APIError(
            .serviceUnavailable, "unavailable", "the delivery could not be stored; retry", headers: [.retryAfter: "1"])
    }
}
