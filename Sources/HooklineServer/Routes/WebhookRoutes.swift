import Foundation
import HTTPTypes
import Hookline
import Hummingbird
import Logging
import Postgres

/// `POST /webhooks/{id}`: authenticate, enqueue durably, answer.
///
/// 202 `{"job_id":…}` once the job row is committed; 200 with the first `job_id` for a repeated delivery;
/// 401 for bad credentials or signatures; 403 outside the IP allow-list; 404 for an unknown or deleted webhook;
/// 413 over the size limit; 429 over the account's rate; 503 with `Retry-After` when the database cannot
/// commit.
struct WebhookRoutes: Sendable {
    let directory: WebhookDirectory
    let verifier: TokenVerifier
    let enqueuer: BatchingEnqueuer
    let settings: ServerSettings
    let rateLimiter: AccountRateLimiter?
    let now: @Sendable () -> Date

    func register(on router: Router<HooklineRequestContext>) {
        router.post("/webhooks/{id}") { request, context in try await receive(request, context) }
    }

    func receive(_ request: Request, _ context: HooklineRequestContext) async throws -> Response {
        let receivedAt = Date()
        guard let id = context.parameters.get("id").flatMap({ UUID(canonical: $0) }) else { return Self.notFound }
        let webhook: Webhook
        do {
            guard let found = try await directory.webhook(id) else { return Self.notFound }
            webhook = found
        } catch {
            return unavailable(error, context)
        }
        if !webhook.allowIPs.isEmpty {
            let client = ClientAddress.resolve(
                peer: context.remoteAddress?.ipAddress,
                forwardedFor: request.headers[HTTPField.Name("X-Forwarded-For")!],
                trustedProxies: settings.trustedProxies)
            guard let client, webhook.allowIPs.contains(where: { $0.contains(client) }) else {
                return JSONResponse.error("forbidden", "this address may not call this webhook", status: .forbidden)
            }
        }
        if let rateLimiter, let wait = rateLimiter.take(webhook.accountID) {
            return JSONResponse.error(
                "rate_limited", "too many requests for this account", status: .tooManyRequests,
                headers: [.retryAfter: String(wait)])
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > settings.maxBodyBytes {
            return Self.tooLarge
        }
        if webhook.scheme == .bearer {
            let verdict: TokenVerifier.Verdict
            do {
                verdict = try await verifier.verify(
                    authorization: request.headers[.authorization], scope: .webhook, account: webhook.accountID)
            } catch {
                return unavailable(error, context)
            }
            if case .rejected(let rejection) = verdict { return BearerChallenge.response(for: rejection) }
        }
        var request = request
        let body: [UInt8]
        do {
            body = Array(buffer: try await request.collectBody(upTo: settings.maxBodyBytes))
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return Self.tooLarge
        }
        let headers = Self.headerMap(request.headers)
        if let refusal = SignatureCheck.check(
            scheme: webhook.scheme, settings: webhook.settings, headers: headers, body: body, now: now())
        {
            return JSONResponse.error("invalid_signature", refusal.rawValue, status: .unauthorized)
        }
        let stored = headers.filter { !SignatureCheck.isCredentialHeader($0.key, settings: webhook.settings) }
        let delivery = Delivery(
            webhookID: webhook.id, accountID: webhook.accountID, cycleID: webhook.cycleID,
            headers: PostgresJSON(bytes: JSON.objectBytes(stored)), contentType: request.headers[.contentType],
            body: Data(body),
            idempotencyKey: SignatureCheck.idempotencyKey(scheme: webhook.scheme, headers: headers, body: body),
            receivedAt: receivedAt)
        do {
            switch try await enqueuer.enqueue(delivery) {
            case .accepted(let jobID): return JSONResponse.jobID(jobID, status: .accepted)
            case .duplicate(let jobID): return JSONResponse.jobID(jobID, status: .ok)
            }
        } catch {
            return unavailable(error, context)
        }
    }

    static var notFound: Response { JSONResponse.error("not_found", "no such webhook", status: .notFound) }

    static var tooLarge: Response { JSONResponse.error("too_large", "the body is too large", status: .contentTooLarge) }

    private func unavailable(_ error: any Error, _ context: HooklineRequestContext) -> Response {
        context.logger.error("webhook not stored: database unavailable", metadata: ["error": "\(error)"])
        return JSONResponse.error(
            "unavailable", "the delivery could not be stored; retry", status: .serviceUnavailable,
            headers: [.retryAfter: "1"])
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
