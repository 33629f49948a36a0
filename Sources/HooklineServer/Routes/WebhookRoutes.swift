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
/// 413 over the size limit; 429 over the account's rate (counted after authentication); 400 for a delivery the
/// database refuses on its own data; 503 with `Retry-After` when the database cannot commit or the body
/// buffer budget is spent.
struct WebhookRoutes: Sendable {
    let directory: WebhookDirectory
    let verifier: TokenVerifier
    let enqueuer: BatchingEnqueuer
    let bodyBudget: BodyBudget
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
            guard let client = context.clientAddress(of: request, trustedProxies: settings.trustedProxies),
                webhook.allowIPs.contains(where: { $0.contains(client) })
            else {
                return JSONResponse.error("forbidden", "this address may not call this webhook", status: .forbidden)
            }
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
        // The body's bytes count against the ingress's buffer budget until the delivery is answered.
        var reserved = 0
        defer { bodyBudget.release(reserved) }
        var buffer = ByteBuffer()
        for try await chunk in request.body {
            guard buffer.readableBytes + chunk.readableBytes <= settings.maxBodyBytes else { return Self.tooLarge }
            guard bodyBudget.reserve(chunk.readableBytes) else { return Self.busy }
            reserved += chunk.readableBytes
            buffer.writeImmutableBuffer(chunk)
        }
        let body = Array(buffer: buffer)
        buffer = ByteBuffer()
        let headers = Self.headerMap(request.headers)
        if let refusal = SignatureCheck.check(
            scheme: webhook.scheme, settings: webhook.settings, headers: headers, body: body, now: now())
        {
            return JSONResponse.error("invalid_signature", refusal.rawValue, status: .unauthorized)
        }
        // Only an authenticated delivery spends the account's budget: a stranger holding the URL of a signed
        // or bearer webhook cannot exhaust it with requests that fail authentication.
        if let rateLimiter, let wait = rateLimiter.take(webhook.accountID) {
            return JSONResponse.error(
                "rate_limited", "too many requests for this account", status: .tooManyRequests,
                headers: [.retryAfter: String(wait)])
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
        } catch let error as PostgresError where BatchingEnqueuer.isUnstorable(error) {
            // Tried alone, this delivery still failed on its own data: retrying cannot help.
            context.logger.notice("webhook not stored: the server refused its data", metadata: ["error": "\(error)"])
            return JSONResponse.error(
                "invalid_delivery", "the delivery cannot be stored as sent", status: .badRequest)
        } catch {
            return unavailable(error, context)
        }
    }

    static var notFound: Response { JSONResponse.error("not_found", "no such webhook", status: .notFound) }

    static var tooLarge: Response { JSONResponse.error("too_large", "the body is too large", status: .contentTooLarge) }

    /// Over the ingress's buffer budget (`--max-buffered-bytes`): the caller retries shortly.
    static var busy: Response {
        JSONResponse.error(
            "busy", "too many deliveries are being received at once; retry", status: .serviceUnavailable,
            headers: [.retryAfter: "1"])
    }

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
