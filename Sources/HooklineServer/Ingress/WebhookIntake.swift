import Foundation
import HTTPTypes
import Hookline
import Logging
import Postgres

/// What `POST /webhooks/{id}` does, whichever path carries the request: ``WebhookChannelHandler`` for the usual
/// request, the router's ``WebhookRoutes`` for the rest. The checks run in this order, each before the next:
///
/// 1. ``admit(_:headers:clientAddress:)``, from the request's head: 404 for an unknown or deleted webhook, 403
///    outside its IP allow-list, 413 when the declared length is over the limit, 401 for a bearer webhook
///    without a valid token;
/// 2. reading the body: 413 past the limit, 503 with `Retry-After` when the body buffer budget is spent;
/// 3. ``admit(_:headers:clientAddress:)`` again, for the request as it ended: a body may take as long as its
///    sender likes, and a webhook deleted, a token revoked or a secret rotated meanwhile refuses it;
/// 4. ``store(_:headers:body:receivedAt:)``, with the webhook as the second admission found it: 401 for a bad signature, 429 over the account's rate (only
///    authenticated deliveries spend it), 400 for a delivery the database refuses on its own data, and 503 with
///    `Retry-After` when the database cannot commit; else the job, committed.
///
/// Refusals are thrown ``APIError``s and ``BearerChallenge``s, which know their answer.
struct WebhookIntake: Sendable {
    let directory: WebhookDirectory
    let verifier: TokenVerifier
    let enqueuer: BatchingEnqueuer
    let bodyBudget: BodyBudget
    let settings: ServerSettings
    let rateLimiter: AccountRateLimiter?
    let now: @Sendable () -> Date
    let logger: Logger

    /// The live webhook of the path's `{id}`, if the request's head may call it.
    /// - Parameter clientAddress: the client's address (behind a trusted proxy, the one it reports), asked
    ///   only when the webhook has an allow-list.
    func admit(_ id: some StringProtocol, headers: HTTPFields, clientAddress: () -> String?) async throws -> Webhook {
        let found: Webhook?
        do {
            found = try await directory.webhook(try Self.webhookID(id))
        } catch let error as APIError {
            throw error
        } catch {
            throw unavailable(error)
        }
        let webhook = try check(found, headers: headers, clientAddress: clientAddress)
        guard webhook.scheme == .bearer else { return webhook }
        let verdict: TokenVerifier.Verdict
        do {
            verdict = try await verifier.verify(
                authorization: headers[.authorization], scope: .webhook, account: webhook.accountID)
        } catch {
            throw unavailable(error)
        }
        try BearerChallenge.check(verdict)
        return webhook
    }

    /// ``admit(_:headers:clientAddress:)`` without waiting, when the caches can tell (the usual case once a
    /// webhook and its callers' tokens have been seen); nil when the database must be asked.
    func admitFromCache(_ id: some StringProtocol, headers: HTTPFields, clientAddress: () -> String?) throws
        -> Webhook?
    {
        guard let found = directory.cachedWebhook(try Self.webhookID(id)) else { return nil }
        let webhook = try check(found, headers: headers, clientAddress: clientAddress)
        guard webhook.scheme == .bearer else { return webhook }
        guard
            let verdict = verifier.cachedVerdict(
                authorization: headers[.authorization], scope: .webhook, account: webhook.accountID)
        else { return nil }
        try BearerChallenge.check(verdict)
        return webhook
    }

    private static func webhookID(_ text: some StringProtocol) throws -> UUID {
        guard let id = UUID(canonical: String(text)) else { throw APIError.webhookNotFound }
        return id
    }

    /// What is checked of a webhook found (or not) before any bearer token: 404, 403 outside its allow-list,
    /// and 413 for a body whose `Content-Length` is over the limit, before anything reads it (a body that
    /// declares no length, or lies, is measured while it is read).
    private func check(_ found: Webhook?, headers: HTTPFields, clientAddress: () -> String?) throws -> Webhook {
        guard let webhook = found else { throw APIError.webhookNotFound }
        if !webhook.allowIPs.isEmpty {
            guard let client = clientAddress(), webhook.allowIPs.contains(where: { $0.contains(client) }) else {
                throw APIError(.forbidden, "forbidden", "this address may not call this webhook")
            }
        }
        if let length = headers[.contentLength].flatMap(Int.init), length > settings.maxBodyBytes {
            throw APIError.tooLarge
        }
        return webhook
    }

    /// Checks the signature and the account's rate, then stores the delivery and returns once it is committed.
    func store(_ webhook: Webhook, headers: HTTPFields, body: Data, receivedAt: Date) async throws
        -> EnqueueOutcome
    {
        let delivery = try prepare(webhook, headers: headers, body: body, receivedAt: receivedAt)
        do {
            return try await enqueuer.enqueue(delivery)
        } catch {
            throw storeFailure(error)
        }
    }

    /// The delivery to store, once its signature and the account's rate allow it.
    func prepare(_ webhook: Webhook, headers fields: HTTPFields, body: Data, receivedAt: Date) throws -> Delivery {
        let headers = Self.headerMap(fields)
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
        return Delivery(
            webhookID: webhook.id, accountID: webhook.accountID, cycleID: webhook.cycleID,
            headers: PostgresJSON(bytes: JSON.objectBytes(stored)), contentType: fields[.contentType],
            body: body,
            idempotencyKey: SignatureCheck.idempotencyKey(
                scheme: webhook.scheme, headers: headers, body: body, maxKeyBytes: settings.maxIdempotencyKeyBytes),
            receivedAt: receivedAt)
    }

    /// The refusal for a delivery the enqueuer could not store: 400 when, tried alone, it still failed on its
    /// own data (retrying cannot help); else 503.
    func storeFailure(_ error: any Error) -> APIError {
        if let error = error as? PostgresError, JobQueue.isUnstorable(error) {
            logger.notice("webhook not stored: the server refused its data", metadata: ["error": "\(error)"])
            return APIError(.badRequest, "invalid_delivery", "the delivery cannot be stored as sent")
        }
        return unavailable(error)
    }

    /// 503 when the database cannot be reached to find, authenticate or store a delivery: logs why, and asks
    /// the caller to retry.
    private func unavailable(_ error: any Error) -> APIError {
        logger.error("webhook not stored: database unavailable", metadata: ["error": "\(error)"])
        return APIError(
            .serviceUnavailable, "unavailable", "the delivery could not be stored; retry", headers: [.retryAfter: "1"])
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
}
