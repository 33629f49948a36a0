import Foundation
import Postgres

/// One accepted webhook request, ready to become a job row.
struct Delivery: Sendable {
    var webhookID: UUID
    var accountID: UUID
    var cycleID: UUID
    var headers: PostgresJSON
    var contentType: String?
    var body: Data
    var idempotencyKey: String?
    /// When the request arrived: the start of the job's latency, kept in `jobs.received_at`.
    var receivedAt: Date

    /// What this delivery adds to a batch statement's parameters, near enough.
    var size: Int {
        body.count + headers.bytes.count + (contentType?.utf8.count ?? 0) + (idempotencyKey?.utf8.count ?? 0)
    }
}
