import Foundation
import Postgres

/// One accepted webhook request, ready to become a job row.
public struct Delivery: Sendable {
    public var webhookID: UUID
    public var accountID: UUID
    public var cycleID: UUID
    public var headers: PostgresJSON
    public var contentType: String?
    public var body: Data
    public var idempotencyKey: String?
    /// When the request arrived: the start of the job's latency, kept in `jobs.received_at`.
    public var receivedAt: Date

    /// What this delivery adds to a batch statement's parameters, near enough.
    public var size: Int {
        body.count + headers.bytes.count + (contentType?.utf8.count ?? 0) + (idempotencyKey?.utf8.count ?? 0)
    }

    public init(
        webhookID: UUID, accountID: UUID, cycleID: UUID, headers: PostgresJSON, contentType: String?, body: Data,
        idempotencyKey: String?, receivedAt: Date
    ) {
        self.webhookID = webhookID
        self.accountID = accountID
        self.cycleID = cycleID
        self.headers = headers
        self.contentType = contentType
        self.body = body
        self.idempotencyKey = idempotencyKey
        self.receivedAt = receivedAt
    }
}
